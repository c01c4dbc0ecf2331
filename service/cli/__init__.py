"""The `tidal` command. Each subcommand lives in its own module and imports heavy
libraries (spaCy, scikit-learn, uvicorn) only when it runs, so `--help` stays instant."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="tidal",
    help="Tidal: classify and route contact-center messages.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Tidal: classify and route contact-center messages."""


from service.cli import serve as _serve  # noqa: E402
from service.cli import token as _token  # noqa: E402

app.command("serve")(_serve.serve)
app.add_typer(_token.app, name="token")

from service.cli import classify as _classify  # noqa: E402
from service.cli import replay as _replay  # noqa: E402
from service.cli import rules as _rules  # noqa: E402

app.add_typer(_rules.app, name="rules")
app.command("classify")(_classify.classify)
app.command("replay")(_replay.replay)

from training import cli as _training  # noqa: E402

_training.register(app)

from training import cli_data as _data  # noqa: E402

app.add_typer(_data.app, name="data")


def main() -> None:
    app()
