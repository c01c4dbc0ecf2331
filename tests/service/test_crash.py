"""`kill -9` in the middle of a stream of messages, three times over, loses no
acknowledged message and breaks no invariant (README.md), and leaves no classifier helper
process behind; on SQLite and on PostgreSQL. Runs the real `tidal serve` in a
subprocess through the crash harness (`bench/crash.py`, which runs 20 cycles)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crash import postgres_schema, run_cycles
from tests.service.test_postgres import _server_url

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
CYCLES = 3


def test_kill_9_cycles_on_sqlite_lose_no_acknowledged_message(tmp_path: Path) -> None:
    report = run_cycles(str(tmp_path / "crash.db"), CYCLES, tmp_path, name="sqlite")
    assert report.cycles == CYCLES and report.acknowledged >= 50 * CYCLES
    assert report.lost == []
    assert report.violations == []


@pytest.mark.postgres
def test_kill_9_cycles_on_postgresql_lose_no_acknowledged_message(tmp_path: Path) -> None:
    with postgres_schema(_server_url()) as url:
        report = run_cycles(url, CYCLES, tmp_path, name="postgres")
    assert report.cycles == CYCLES and report.acknowledged >= 50 * CYCLES
    assert report.lost == []
    assert report.violations == []
