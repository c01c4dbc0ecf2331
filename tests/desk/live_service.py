"""The real Tidal service in a subprocess, for end-to-end tests of the desk.

`tidal serve --clock manual` runs on a free port with its own SQLite file; tokens come
from `tidal token create`, as an operator would make them. Test code talks to it over
HTTP like any other client.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
#: the `tidal` command installed beside this interpreter
TIDAL = str(Path(sys.executable).with_name("tidal"))
#: how long a cold start (imports, rules, model) may take on a busy 2-core machine
STARTUP_DEADLINE_SECONDS = 90.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def create_token(db_url: str, role: str, agent_id: str | None = None) -> str:
    """A new token from the command line; the CLI prints it alone on its last line."""
    command = [TIDAL, "token", "create", "--role", role, "--db", db_url]
    if agent_id is not None:
        command += ["--agent", agent_id]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


@dataclass
class LiveService:
    """A running `tidal serve` and the tokens to talk to it."""

    base_url: str
    db_url: str
    admin_token: str
    service_token: str
    supervisor_token: str
    #: the server itself, to stop and restart it
    process: ServiceProcess
    _message_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def agent_token(self, agent_id: str) -> str:
        return create_token(self.db_url, "agent", agent_id)

    def call(self, method: str, path: str, token: str, body: Any = None) -> Any:
        """One API call that must succeed; returns the decoded JSON body (or None)."""
        response = httpx.request(
            method,
            self.base_url + path,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        if response.is_error:
            raise AssertionError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def put_agent(self, agent_id: str, **fields: Any) -> Any:
        return self.call("PUT", f"/v1/agents/{agent_id}", self.supervisor_token, fields)

    def customer_writes(self, conversation_id: str, text: str, **extra: Any) -> Any:
        return self._message(conversation_id, "inbound", text, **extra)

    def agent_writes(self, conversation_id: str, agent_id: str, text: str) -> Any:
        return self._message(conversation_id, "outbound", text, agent_id=agent_id)

    def _message(self, conversation_id: str, direction: str, text: str, **extra: Any) -> Any:
        body = {
            "message_id": f"m-{next(self._message_ids)}",
            "conversation_id": conversation_id,
            "direction": direction,
            "text": text,
            "channel": "sms",
            **extra,
        }
        return self.call("POST", "/v1/messages", self.service_token, body)

    def set_clock(self, now: datetime) -> Any:
        return self.call("POST", "/v1/admin/clock", self.admin_token, {"now": now.isoformat()})

    def advance_clock(self, now: datetime, by: timedelta) -> datetime:
        """Move the manual clock forward from `now`; returns the new time."""
        later = now + by
        self.set_clock(later)
        return later


def _wait_until_healthy(base_url: str, process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tidal serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(base_url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"tidal serve did not become healthy:\n{log.read_text()}")


@dataclass
class ServiceProcess:
    """`tidal serve` on one port and database: started, stopped and started again at will."""

    command: list[str]
    base_url: str
    log: Path
    _process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Start it and wait until /healthz answers."""
        with self.log.open("a") as output:
            self._process = subprocess.Popen(
                self.command,
                cwd=REPO,
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        _wait_until_healthy(self.base_url, self._process, self.log)

    def stop(self) -> None:
        """Stop it as an operator would (SIGTERM), forcibly if it hangs."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


@contextmanager
def running_service(workdir: Path, clock_start: datetime) -> Iterator[LiveService]:
    """Start `tidal serve --clock manual` on a fresh SQLite file; stop it afterwards."""
    db_url = f"sqlite:///{workdir / 'tidal.db'}"
    admin = create_token(db_url, "admin")
    service = create_token(db_url, "service")
    supervisor = create_token(db_url, "supervisor")
    port = free_port()
    command = [
        TIDAL,
        "serve",
        "--clock",
        "manual",
        "--clock-start",
        clock_start.strftime("%Y-%m-%dT%H:%M:%S"),
        "--db",
        db_url,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    base_url = f"http://127.0.0.1:{port}"
    process = ServiceProcess(command, base_url, workdir / "serve.log")
    process.start()
    try:
        yield LiveService(base_url, db_url, admin, service, supervisor, process)
    finally:
        process.stop()
