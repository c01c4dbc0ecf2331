"""The `tidal` command. Each subcommand lives in its own module and imports heavy
libraries (spaCy, scikit-learn, uvicorn) only when it runs, so `--help` stays instant."""

from __future__ import annotations

import typer

from service.cli import classify, replay, rules, serve, simulate, token
from training import cli as training_cli
from training import cli_data

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


app.command("serve")(serve.serve)
app.add_typer(token.app, name="token")
app.add_typer(rules.app, name="rules")
app.command("classify")(classify.classify)
app.command("replay")(replay.replay)
app.command("simulate")(simulate.simulate)
training_cli.register(app)
app.add_typer(cli_data.app, name="data")


def main() -> None:
    app()
