"""engine/core is the pure domain: no I/O library, no wall clock, no environment."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "engine" / "core"
MODULES = sorted(f"tidal.engine.core.{p.stem}" for p in CORE.glob("*.py") if p.stem != "__init__")

#: libraries that do I/O, or would drag a heavy stack into the domain
FORBIDDEN_LIBRARIES = {
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "sqlalchemy",
    "psycopg",
    "sqlite3",
    "spacy",
    "sklearn",
    "skops",
    "numpy",
    "yaml",
    "pydantic",
    "socket",
    "ssl",
    "http",
    "urllib",
    "subprocess",
    "asyncio",
    "pathlib",
    "shutil",
    "tempfile",
    "logging",
    "threading",
    "multiprocessing",
    "selectors",
    "requests",
    "orjson",
    "prometheus_client",
}
#: standard modules the core must not import itself (some are loaded by Python anyway)
FORBIDDEN_IMPORTS = FORBIDDEN_LIBRARIES | {"os", "io", "time", "sys", "random", "uuid", "glob"}
#: calls that read the wall clock, files, the console or the environment
FORBIDDEN_CALLS = {
    "open",
    "input",
    "print",
    "getenv",
    "now",
    "utcnow",
    "today",
    "time",
    "monotonic",
    "perf_counter",
    "urandom",
    "read_text",
    "read_bytes",
}
#: `clock.now()` is how the core tells time: calling it on an injected clock is the point
CLOCK_NAMES = {"clock", "_clock", "self._clock", "self.clock"}

_PROBE = """
import json, sys
before = set(sys.modules)
import {module}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_every_core_module_is_checked() -> None:
    assert "tidal.engine.core.engine" in MODULES and len(MODULES) >= 10


@pytest.mark.parametrize("module", MODULES)
def test_importing_a_core_module_loads_no_io_library(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
        cwd=CORE.parents[1],
    )
    loaded = {name.split(".")[0] for name in json.loads(result.stdout)}
    assert loaded & FORBIDDEN_LIBRARIES == set()


def _offences(source: str) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"import {a.name}" for a in node.names if a.name.split(".")[0] in FORBIDDEN_IMPORTS
            ]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in FORBIDDEN_IMPORTS:
                found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Attribute) and node.attr in {"environ", "environb"}:
            found.append(f"...{node.attr}")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
            if name in FORBIDDEN_CALLS and owner not in CLOCK_NAMES:
                found.append(f"call {ast.unparse(func)}()")
    return found


@pytest.mark.parametrize("path", sorted(CORE.glob("*.py")), ids=lambda p: p.name)
def test_core_source_reads_no_clock_file_or_environment(path: Path) -> None:
    assert _offences(path.read_text(encoding="utf-8")) == []


def test_the_scan_catches_what_it_forbids() -> None:
    bad = (
        "import os\nfrom pathlib import Path\nimport time\n"
        "x = os.environ['A']\ny = datetime.now()\nz = open('f')\nclock.now()\n"
    )
    assert sorted(_offences(bad)) == sorted(
        [
            "import os",
            "from pathlib import ...",
            "import time",
            "...environ",
            "call datetime.now()",
            "call open()",
        ]
    )
