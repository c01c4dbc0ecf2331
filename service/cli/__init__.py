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


def main() -> None:
    app()
