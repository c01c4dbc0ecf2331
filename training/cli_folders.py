"""The folders every `tidal` command reads (rules, models, training data), found as
`tidal.engine.home` says: under `TIDAL_HOME`, else the current directory. A missing folder is
a usage error (exit 2) that says where it looked and what to do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from tidal.engine.home import in_home, missing_folder


def folder(what: str, how: str, *, required: bool = True) -> Callable[..., Path]:
    """A typer callback: the default resolved under the home, and checked if `required`."""

    def resolve(ctx: typer.Context, param: typer.CallbackParam, value: Path) -> Path:
        source = ctx.get_parameter_source(param.name) if param.name else None
        path = in_home(value) if source is not None and source.name == "DEFAULT" else value
        if required and not path.is_dir():
            raise typer.BadParameter(missing_folder(path, what, how))
        return path

    return resolve
