"""`kill -9` in the middle of a stream of messages loses no acknowledged message and
breaks no invariant (SPEC 8), and leaves no classifier helper process behind. Runs the
real `tidal serve` in a subprocess."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from service.config import sqlite_url
from service.persistence import schema
from service.persistence.store import DurableStore
from service.tokens import Role
from tests.service.conftest import helper_processes, serve_process

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
TEXTS = [
    "where is my parcel?",
    "my card is blocked",
    "thanks!",
    "ok",
    "this is urgent",
    "can you check my last invoice please",
    "I was charged twice",
]


def _message(i: int) -> dict[str, Any]:
    conversation = f"c-{i % 23}"
    if i % 5 == 4:
        return {
            "message_id": f"m-{i}",
            "conversation_id": conversation,
            "direction": "outbound",
            "text": "Is there anything else I can help you with?",
            "agent_id": f"a-{i % 3}",
        }
    return {
        "message_id": f"m-{i}",
        "conversation_id": conversation,
        "direction": "inbound",
        "text": TEXTS[i % len(TEXTS)],
    }


def test_sigkill_mid_stream_loses_no_acknowledged_message(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    store = DurableStore(sqlite_url(db))
    store.create_schema()
    service = {"Authorization": f"Bearer {store.create_token(Role.SERVICE)}"}
    supervisor = {"Authorization": f"Bearer {store.create_token(Role.SUPERVISOR)}"}
    store.close()
    log = tmp_path / "serve.log"
    acknowledged: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    killed = threading.Event()

    with serve_process(str(db), log) as (process, url):
        with httpx.Client(base_url=url, timeout=10) as client:
            for agent in range(3):
                client.put(
                    f"/v1/agents/a-{agent}",
                    headers=supervisor,
                    json={"status": "available", "preferred_concurrency": 3, "max_concurrency": 5},
                ).raise_for_status()

        def send(worker: int) -> None:
            with httpx.Client(base_url=url, timeout=10) as client:
                for i in range(worker, 100_000, 8):
                    if killed.is_set():
                        return
                    body = _message(i)
                    try:
                        response = client.post("/v1/messages", json=body, headers=service)
                    except httpx.TransportError:
                        return  # the server died: this one was never acknowledged
                    if response.status_code == 200:
                        with lock:
                            acknowledged[body["message_id"]] = response.json()

        with ThreadPoolExecutor(8) as pool:
            for worker in range(8):
                pool.submit(send, worker)
            while len(acknowledged) < 200 and process.poll() is None:
                time.sleep(0.01)
            helpers = helper_processes(process.pid)
            os.kill(process.pid, signal.SIGKILL)  # mid-stream: requests are in flight
            process.wait()
            killed.set()

    assert len(acknowledged) >= 200
    # the classifier helper does not outlive the service: its stdin closed with it
    assert len(helpers) == 1
    for _ in range(3000):  # bounded wait: it finishes the texts it was sent
        if not set(helpers) & set(helper_processes()):
            break
        time.sleep(0.01)
    assert not set(helpers) & set(helper_processes())
    with (
        serve_process(str(db), log) as (_process, url),
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        for message_id, first in sorted(acknowledged.items()):
            i = int(message_id.removeprefix("m-"))
            again = client.post("/v1/messages", json=_message(i), headers=service)
            assert again.status_code == 200, again.text
            assert again.json() == {**first, "duplicate": True}, message_id
        agents = client.get("/v1/agents", headers=supervisor).json()["agents"]
        queue = client.get("/v1/queue", headers=supervisor).json()["conversations"]

    _check_invariants(db, agents, queue)


def _check_invariants(db: Path, agents: list[dict[str, Any]], queue: list[dict[str, Any]]) -> None:
    engine = sa.create_engine(sqlite_url(db))
    with engine.connect() as conn:
        conversations = list(conn.execute(sa.select(schema.conversations)))
        messages = {r.message_id for r in conn.execute(sa.select(schema.messages.c.message_id))}
    engine.dispose()
    assert messages, "messages were stored"
    loads = {a["id"]: a["load"] for a in agents}
    for agent in agents:
        assert agent["load"] <= agent["max_concurrency"]
    assigned: dict[str, int] = {}
    for c in conversations:
        assert c.state in ("queued", "assigned", "inactive", "closed")
        if c.state == "assigned":
            assert c.agent_id is not None
            assigned[c.agent_id] = assigned.get(c.agent_id, 0) + 1
        else:
            assert c.agent_id is None, (c.id, c.state)
        if c.state == "closed":
            assert c.close_reason is not None
    assert assigned == {a: n for a, n in loads.items() if n}
    assert {c["id"] for c in queue} == {c.id for c in conversations if c.state == "queued"}
