"""Tidal installs one top-level name, `tidal`, and every module imports its parts by it.

The repository keeps its parts in top-level folders (`engine/`, `service/`, ...) and
links them under `tidal/`; generic names such as `engine` or `service` would collide
with other packages in a user's environment, so none of them may be installed or
imported.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("engine", "service", "simulation", "training")
#: every folder of Python files that imports Tidal's parts
IMPORTING = (*FOLDERS, "tests", "bench", "scripts")


def _bare_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
        found += [
            f"{path.relative_to(ROOT)}:{node.lineno}: {name}"
            for name in names
            if name.split(".")[0] in FOLDERS
        ]
    return found


def test_every_module_imports_tidals_parts_by_their_installed_name() -> None:
    bare = [
        line
        for folder in IMPORTING
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line in _bare_imports(path)
    ]
    assert bare == []


def test_outside_the_repository_only_tidal_is_importable(tmp_path: Path) -> None:
    probe = (
        "import importlib.util, sys\n"
        f"bare = [n for n in {FOLDERS!r} if importlib.util.find_spec(n) is not None]\n"
        "import tidal.engine.core.engine, tidal.service.cli, tidal.training, tidal.simulation\n"
        "print(bare)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
