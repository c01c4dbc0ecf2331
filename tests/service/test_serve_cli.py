"""`tidal serve` on a new database: it creates an admin token and says how to use it;
its classifier process follows the switch and ends with it."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import (
    free_port,
    helper_processes,
    serve_command,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def _start(db: Path, port: int, out: Path, *options: str) -> subprocess.Popen[bytes]:
    with out.open("wb") as sink:
        return subprocess.Popen(
            serve_command(str(db), port, *options),
            stdout=sink,
            stderr=subprocess.DEVNULL,
        )


def _wait_healthy(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        assert process.poll() is None, "tidal serve exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("tidal serve did not start")


def test_first_start_prints_a_working_admin_token_and_later_starts_do_not(
    tmp_path: Path,
) -> None:
    db, port = tmp_path / "new.db", free_port()
    first_out = tmp_path / "first.txt"
    process = _start(db, port, first_out)
    try:
        _wait_healthy(port, process)
        banner = first_out.read_text()
        token = next(w for w in banner.split() if w.startswith("tidal_"))
        assert (
            f'curl -H "Authorization: Bearer {token}" http://127.0.0.1:{port}/v1/agents' in banner
        )
        answer = httpx.get(
            f"http://127.0.0.1:{port}/v1/agents", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200
        # the printed command works as printed, from another directory and without a
        # `tidal` on the PATH
        [command] = [line.strip() for line in banner.splitlines() if "token create" in line]
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        made = subprocess.run(
            command,
            shell=True,
            cwd=elsewhere,
            env={"PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert made.returncode == 0, made.stderr
        assert made.stdout.strip().splitlines()[-1].startswith("tidal_")
    finally:
        process.terminate()
        process.wait(30)
    second_out = tmp_path / "second.txt"
    process = _start(db, port, second_out)
    try:
        _wait_healthy(port, process)
        assert "tidal_" not in second_out.read_text()
    finally:
        process.terminate()
        process.wait(30)


@pytest.mark.parametrize(
    "switch, helpers", [("--classifier-process", 1), ("--no-classifier-process", 0)]
)
def test_the_classifier_process_follows_its_switch_and_stops_with_the_service(
    tmp_path: Path, switch: str, helpers: int
) -> None:
    port = free_port()
    process = _start(tmp_path / "new.db", port, tmp_path / "out.txt", switch)
    try:
        _wait_healthy(port, process)
        started = helper_processes(process.pid)
        assert len(started) == helpers
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert f"tidal_classifier_process_up {float(helpers)}" in metrics
    finally:
        process.terminate()
        process.wait(30)
    assert not set(started) & set(helper_processes())  # ended before the service did
