"""Where Tidal's own files are: the folder that holds `rules/`, `models/` and `training/`.

Commands read those folders relative to `TIDAL_HOME` when it is set, else relative to
the current directory (a checkout of the repository). A path given on the command line
is taken as written.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_VARIABLE = "TIDAL_HOME"


def in_home(relative: Path | str) -> Path:
    """A default folder such as `rules`, under the home (left as is when it is absolute)."""
    path = Path(relative)
    home = os.environ.get(HOME_VARIABLE)
    return Path(home) / path if home and not path.is_absolute() else path


def missing_folder(path: Path, what: str, how: str) -> str:
    """Why a command cannot start without `path`, and what to do about it (`how`: the
    way to name another folder, e.g. `--rules DIR`)."""
    return (
        f"there is no {what} folder at {path.absolute()}. Run tidal from the Tidal "
        f"repository, {how}, or set {HOME_VARIABLE} to the folder that holds rules/ "
        "and models/."
    )
