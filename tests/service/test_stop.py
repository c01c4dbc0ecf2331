"""A stop request never hangs: SIGTERM ends a real `tidal serve` within its graceful
timeout plus a few seconds, whatever is in flight, and leaves no classifier process."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests.service.conftest import (
    RULES_DIR,
    free_port,
    helper_processes,
    issue_tokens,
    serve_command,
)
from tidal.service.cli.serve import GRACEFUL_SECONDS
from tidal.service.config import sqlite_url

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

#: what a stop may take beyond the graceful timeout (the lifespan's own bounds are 1 s
#: for the classifier process and 3 s for the engine thread)
STOP_SLACK_SECONDS = 6.0
#: 64 KiB texts of the kinds that once took seconds to minutes to classify
HOSTILE_TEXTS = [unit * (64 * 1024 // len(unit.encode())) for unit in ("!?", "'\"", "😀", "(")]


def _helpers_of_this_checkout() -> set[int]:
    """Classifier processes running this checkout's rules, whoever their parent is now."""
    found = set()
    for pid in helper_processes():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if str(RULES_DIR).encode() in cmdline:
            found.add(pid)
    return found


def test_sigterm_mid_flight_ends_the_service_in_time_and_leaves_no_child(
    tmp_path: Path,
) -> None:
    db = tmp_path / "stop.db"
    token = issue_tokens(sqlite_url(db))["service"]
    before = _helpers_of_this_checkout()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            serve_command(
                str(db),
                port,
                "--no-access-log",
                "--log-level",
                "warning",
                "--classifier-process",
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    answered = threading.Semaphore(0)
    stop_posting = threading.Event()

    def post(client_index: int) -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        n = 0
        with httpx.Client(base_url=url, timeout=60) as client:
            while not stop_posting.is_set():
                n += 1
                body = {
                    "message_id": f"m-{client_index}-{n}",
                    "conversation_id": f"c-{client_index}-{n}",
                    "direction": "inbound",
                    "text": HOSTILE_TEXTS[n % len(HOSTILE_TEXTS)],
                }
                try:
                    client.post("/v1/messages", content=orjson.dumps(body), headers=headers)
                except httpx.TransportError:
                    return  # the service stopped listening
                answered.release()

    try:
        for _ in range(600):
            assert process.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        helpers = set(helper_processes(process.pid))
        assert helpers, "the service runs a classifier process"
        posters = [threading.Thread(target=post, args=(i,), daemon=True) for i in range(4)]
        for poster in posters:
            poster.start()
        for _ in range(8):  # the stream is flowing: requests are in flight
            assert answered.acquire(timeout=60)
        asked = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(GRACEFUL_SECONDS + STOP_SLACK_SECONDS)
        took = time.monotonic() - asked
    finally:
        stop_posting.set()
        if process.poll() is None:
            process.kill()
            process.wait()
    assert took <= GRACEFUL_SECONDS + STOP_SLACK_SECONDS
    # neither the classifier process it ran nor any started during the stop is left
    assert not _helpers_of_this_checkout() - before
