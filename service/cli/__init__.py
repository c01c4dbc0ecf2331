"""The `tidal` command. Each subcommand lives in its own module and imports heavy
libraries (spaCy, scikit-learn, uvicorn) only when it runs, so `--help` stays instant."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

import typer
from typer.core import TyperGroup, TyperOption

from tidal.service.cli import classify, replay, rules, serve, simulate, token
from tidal.training import cli as training_cli
from tidal.training import cli_data


class TidalGroup(TyperGroup):
    """The root command, whose help shows no `<bool>` beside flags (they take no value)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _without_flag_types(self)


class _FlagOption(TyperOption):
    """A flag: shown without a type, since it takes no value."""

    def display_type_rich(self, ctx: object) -> str | None:
        return None


def _without_flag_types(command: Any) -> None:
    # Typer labels every option with its type; for a flag, `<bool>` reads as if it wanted
    # a value. The help option is created on first use, so it is made (and cached) here.
    options = [*command.params, command.get_help_option(typer.Context(command))]
    for option in options:
        if type(option) is TyperOption and option.is_flag:
            option.__class__ = _FlagOption
    for sub in getattr(command, "commands", {}).values():
        _without_flag_types(sub)


def tidal_version() -> str:
    try:
        return version("tidal")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"tidal {tidal_version()}")
        raise typer.Exit()


app = typer.Typer(
    name="tidal",
    cls=TidalGroup,
    help="Tidal: classify and route contact-center messages.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
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
