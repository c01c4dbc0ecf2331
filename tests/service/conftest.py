"""Fixtures: the app on a temp SQLite file with a manual clock, tokens for every role,
and a classifier fake that knows the texts the tests send (the HTTP layer is under
test here, not the model)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from tidal.engine.core.intents import Alternative, Classification, Direction
from tidal.engine.rulesio.bundle import EngineRules, load_engine_rules
from tidal.service.config import Settings, sqlite_url
from tidal.service.http.app import create_app
from tidal.service.persistence.store import DurableStore
from tidal.service.running.rules import ActiveRules
from tidal.service.tokens import Role

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "rules"
MODELS_DIR = REPO / "models"
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

KNOWN_TEXTS: dict[tuple[Direction, str], str] = {
    ("inbound", "thanks!"): "gratitude",
    ("inbound", "ok"): "acknowledgement",
    ("inbound", "No, that's all, thanks!"): "deny",
    ("inbound", "bye"): "goodbye",
    ("inbound", "STOP"): "opt_out",
    ("inbound", "this is urgent"): "urgent",
    ("inbound", "in a meeting, will text you later"): "away",
    ("outbound", "Is there anything else I can help you with?"): "offer_more_help",
    ("outbound", "One moment while I check that for you."): "hold",
    ("outbound", "Thanks for contacting us, have a great day!"): "closing",
}


class TextTableClassifier:
    """Classifies the texts of `KNOWN_TEXTS`; anything else is a substantive `other`."""

    version = "test-model-1"

    def classify(self, text: str, direction: Direction) -> Classification:
        intent = KNOWN_TEXTS.get((direction, text))
        if intent is None:
            return Classification(
                "other",
                0.91,
                "model",
                model_version=self.version,
                alternatives=(Alternative("greeting", 0.05),),
            )
        return Classification(
            intent,
            0.97,
            "model",
            model_version=self.version,
            alternatives=(Alternative("other", 0.02),),
        )


@pytest.fixture(scope="session")
def engine_rules() -> EngineRules:
    return load_engine_rules(RULES_DIR)


def table_rules(engine_rules: EngineRules, generation: int = 1) -> ActiveRules:
    return ActiveRules(generation, TextTableClassifier(), engine_rules, RULES_DIR, MODELS_DIR)


class _Server(uvicorn.Server):
    """A uvicorn server that remembers the event loop it serves on."""

    loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)


class LiveServer:
    """Runs an app with uvicorn on a free loopback port in a background thread.

    A real server (rather than an in-process transport) so streaming responses (SSE)
    behave as in production. `call` runs a coroutine on the server's event loop (to ask
    the running service something, as `tests.service.state` does).
    """

    def __init__(self, app: FastAPI, port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            loop="asyncio",
        )
        self._server = _Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                self._sock.close()
                raise RuntimeError("the server did not start")
            self._thread.join(0.01)
        return self

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run `coroutine` on the server's loop and return its result."""
        assert self._server.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._server.loop).result(timeout)

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join()
        self._sock.close()


@dataclass
class Api:
    """A started app, its database, and a token per role."""

    client: httpx.Client
    db_url: str
    tokens: dict[str, str]
    #: the server and app, when the test runs them in this process
    server: LiveServer | None = None
    app: FastAPI | None = None

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def message(
        self,
        message_id: str,
        conversation_id: str,
        text: str,
        *,
        direction: str = "inbound",
        agent_id: str | None = None,
        **extra: Any,
    ) -> Any:
        body = {
            "message_id": message_id,
            "conversation_id": conversation_id,
            "direction": direction,
            "text": text,
            "agent_id": agent_id,
            **extra,
        }
        return self.client.post("/v1/messages", json=body, headers=self.headers("service"))

    def put_agent(self, agent_id: str, **fields: Any) -> Any:
        fields.setdefault("status", "available")
        return self.client.put(
            f"/v1/agents/{agent_id}", json=fields, headers=self.headers("supervisor")
        )

    def set_clock(self, now: datetime) -> Any:
        return self.client.post(
            "/v1/admin/clock", json={"now": now.isoformat()}, headers=self.headers("admin")
        )


def issue_tokens(db_url: str) -> dict[str, str]:
    store = DurableStore(db_url)
    store.create_schema()
    tokens = {
        "service": store.create_token(Role.SERVICE),
        "supervisor": store.create_token(Role.SUPERVISOR),
        "admin": store.create_token(Role.ADMIN),
        "a-1": store.create_token(Role.AGENT, agent_id="a-1"),
        "a-2": store.create_token(Role.AGENT, agent_id="a-2"),
    }
    store.close()
    return tokens


def manual_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "db_url": sqlite_url(tmp_path / "tidal.db"),
        "rules_dir": RULES_DIR,
        "models_dir": MODELS_DIR,
        "clock": "manual",
        "clock_start": T0,
        "heartbeat_seconds": 0.2,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return manual_settings(tmp_path)


@pytest.fixture
def api(settings: Settings, engine_rules: EngineRules) -> Iterator[Api]:
    tokens = issue_tokens(settings.db_url)
    app = create_app(settings, rules=table_rules(engine_rules))
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield Api(client, settings.db_url, tokens, server, app)


def helper_processes(parent: int | None = None) -> list[int]:
    """Pids of running classifier helper processes (children of `parent` if given);
    zombies, which have exited, do not count."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:  # it ended while we looked
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if b"tidal.service.classifier.worker" not in cmdline or state == "Z":
            continue
        if parent is None or int(ppid) == parent:
            found.append(int(entry.name))
    return found


TIDAL_COMMAND = [sys.executable, "-c", "from service.cli import main; main()"]


def serve_command(db: str, port: int, *options: str) -> list[str]:
    """`tidal serve` on `db` and `port` with the shipped rules and models, then `options`."""
    return [
        *TIDAL_COMMAND,
        "serve",
        "--db",
        db,
        "--port",
        str(port),
        "--rules",
        str(RULES_DIR),
        "--models",
        str(MODELS_DIR),
        *options,
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_process(db: str, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A real `tidal serve` on `db` (a path or URL), with the shipped rules and models and
    its classifier process, once its `/healthz` answers 200 (as the writer, or as a
    replica of a healthy writer). Terminated on exit if still running."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            serve_command(
                db,
                port,
                "--no-access-log",
                "--log-level",
                "warning",
                "--classifier-process",
            ),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # bounded wait for the start (model loading)
            if process.poll() is not None:
                raise RuntimeError(f"tidal serve exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("tidal serve did not start")
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(30)
