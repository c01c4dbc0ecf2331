"""Crash harness: `kill -9` a real `tidal serve` under load, again and again, and prove
that no acknowledged message was lost and no invariant broke.

    .venv/bin/python bench/crash.py [--cycles 20] [--db sqlite|postgres|both]
                                    [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Each cycle starts `tidal serve` (with its classifier process) on the same database,
sends messages from 8 concurrent clients (customers, agents' replies, offers of more
help, across 23 conversations and 3 agents), and sends SIGKILL after a random number
(50 to 250) of acknowledged answers, with requests in flight. After each kill:

- the classifier process ends by itself (its stdin closed with the service);
- every message ever acknowledged is in the database, and, once the service is up
  again, each one the last cycle acknowledged answers as a duplicate with exactly the
  response first given;
- the invariants hold: of the engine restored from the database
  (`tests/engine/invariants.py`: queue, loads, states, priority order, stability), and
  between what the API shows and the tables (agents' loads, the queue).

PostgreSQL runs in a fresh schema of the server at `--postgres-url`, dropped at the end
(the server itself is never stopped). CI runs 3 cycles of each (tests/service/test_crash.py).

Last line: {"bench": "crash", "cycles", "acknowledged", "lost", "invariant_violations",
            "<db>_cycles", "<db>_acknowledged", "<db>_lost", "<db>_violations", "seconds"}
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from tests.engine.invariants import check_invariants  # noqa: E402
from tests.service.conftest import helper_processes, serve_process  # noqa: E402
from tidal.engine.core.engine import Engine  # noqa: E402
from tidal.engine.core.store import InMemoryStore  # noqa: E402
from tidal.engine.rulesio.bundle import load_engine_rules  # noqa: E402
from tidal.service.config import sqlite_url  # noqa: E402
from tidal.service.persistence import schema  # noqa: E402
from tidal.service.persistence.store import DurableStore  # noqa: E402
from tidal.service.running.clock import WallClock  # noqa: E402
from tidal.service.tokens import Role  # noqa: E402

TEXTS = [
    "where is my parcel?",
    "my card is blocked",
    "thanks!",
    "ok",
    "this is urgent",
    "can you check my last invoice please",
    "I was charged twice",
]
CLIENTS = 8
AGENTS = 3


def message(cycle: int, i: int) -> dict[str, Any]:
    conversation = f"c-{i % 23}"
    if i % 5 == 4:
        return {
            "message_id": f"m-{cycle}-{i}",
            "conversation_id": conversation,
            "direction": "outbound",
            "text": "Is there anything else I can help you with?",
            "agent_id": f"a-{i % AGENTS}",
        }
    return {
        "message_id": f"m-{cycle}-{i}",
        "conversation_id": conversation,
        "direction": "inbound",
        "text": TEXTS[i % len(TEXTS)],
    }


@dataclass
class Report:
    database: str
    cycles: int = 0
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            f"{self.database}_cycles": self.cycles,
            f"{self.database}_acknowledged": self.acknowledged,
            f"{self.database}_lost": len(self.lost),
            f"{self.database}_violations": len(self.violations),
        }


def run_cycles(db: str, cycles: int, workdir: Path, *, seed: int = 1, name: str = "db") -> Report:
    """`cycles` kill -9 cycles of `tidal serve` on `db` (a SQLite path or a URL)."""
    rng = random.Random(seed)
    url = db if "://" in db else sqlite_url(db)
    store = DurableStore(url)
    store.create_schema()
    service = {"Authorization": f"Bearer {store.create_token(Role.SERVICE)}"}
    supervisor = {"Authorization": f"Bearer {store.create_token(Role.SUPERVISOR)}"}
    store.close()
    report = Report(name)
    everything: set[str] = set()
    last: dict[str, dict[str, Any]] = {}
    log = workdir / f"serve-{name}.log"
    for cycle in range(cycles + 1):
        with serve_process(db, log) as (process, base):
            with httpx.Client(base_url=base, timeout=30) as client:
                if cycle == 0:
                    for agent in range(AGENTS):
                        client.put(
                            f"/v1/agents/a-{agent}",
                            headers=supervisor,
                            json={
                                "status": "available",
                                "preferred_concurrency": 3,
                                "max_concurrency": 5,
                            },
                        ).raise_for_status()
                else:  # after a kill: what was acknowledged is there, and answered the same
                    report.violations += _replayed_differently(client, service, last)
                    report.violations += _api_invariants(url, client, supervisor)
            if cycle == cycles:
                break
            target = rng.randint(50, 250)
            last = _load_then_kill(process, base, service, cycle, target)
            report.cycles += 1
            report.acknowledged += len(last)
            everything |= set(last)
            report.lost += sorted(everything - _stored_ids(url))
            report.violations += _engine_invariants(url)
    return report


def _load_then_kill(
    process: Any, base: str, headers: dict[str, str], cycle: int, target: int
) -> dict[str, dict[str, Any]]:
    acknowledged: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    killed = threading.Event()

    def send(worker: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            for i in range(worker, 10**6, CLIENTS):
                if killed.is_set():
                    return
                body = message(cycle, i)
                try:
                    answer = client.post("/v1/messages", json=body, headers=headers)
                except httpx.TransportError:
                    return  # killed: this one was never acknowledged
                if answer.status_code == 200:
                    with lock:
                        acknowledged[body["message_id"]] = answer.json()

    with ThreadPoolExecutor(CLIENTS) as pool:
        for worker in range(CLIENTS):
            pool.submit(send, worker)
        while len(acknowledged) < target and process.poll() is None:
            time.sleep(0.005)
        helpers = helper_processes(process.pid)
        os.kill(process.pid, signal.SIGKILL)  # mid-stream: requests are in flight
        process.wait()
        killed.set()
    deadline = time.monotonic() + 30
    while set(helpers) & set(helper_processes()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the classifier process outlived the service: {helpers}")
        time.sleep(0.01)
    return acknowledged


def _stored_ids(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.select(schema.messages.c.message_id)).scalars())
    finally:
        engine.dispose()


def _replayed_differently(
    client: httpx.Client, headers: dict[str, str], acknowledged: dict[str, dict[str, Any]]
) -> list[str]:
    wrong = []
    for message_id, first in sorted(acknowledged.items()):
        _m, cycle, i = message_id.split("-")
        again = client.post("/v1/messages", json=message(int(cycle), int(i)), headers=headers)
        if again.status_code != 200 or again.json() != {**first, "duplicate": True}:
            wrong.append(f"{message_id}: answered {again.status_code} {again.text[:200]}")
    return wrong


def _engine_invariants(url: str) -> list[str]:
    """The invariants of an engine restored from what the database holds."""
    store = DurableStore(url)
    try:
        state = store.load_state(recent_outcomes=0)
    finally:
        store.close()
    memory = InMemoryStore()
    for agent in state.agents:
        memory.put_agent(agent)
    for conversation in state.conversations:
        memory.put_conversation(conversation)
    rules = load_engine_rules(ROOT / "rules")
    engine = Engine(rules.routing, rules.workflow, WallClock(), memory)
    try:
        check_invariants(engine)
    except AssertionError as exc:
        return [f"engine invariant: {exc}"]
    return []


def _api_invariants(url: str, client: httpx.Client, headers: dict[str, str]) -> list[str]:
    """What the API shows agrees with the tables and with docs/concepts.md#routing."""
    agents = client.get("/v1/agents", headers=headers).json()["agents"]
    queue = client.get("/v1/queue", headers=headers).json()["conversations"]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        conversations = list(conn.execute(sa.select(schema.conversations)))
    engine.dispose()
    problems = []
    loads = {a["id"]: a["load"] for a in agents}
    for agent in agents:
        if agent["load"] > agent["max_concurrency"]:
            problems.append(f"agent {agent['id']} over its maximum")
    assigned: dict[str, int] = {}
    for c in conversations:
        if c.state not in ("queued", "assigned", "inactive", "closed"):
            problems.append(f"{c.id}: state {c.state}")
        if c.state == "assigned":
            if c.agent_id is None:
                problems.append(f"{c.id}: assigned to nobody")
            else:
                assigned[c.agent_id] = assigned.get(c.agent_id, 0) + 1
        elif c.agent_id is not None:
            problems.append(f"{c.id}: {c.state} with agent {c.agent_id}")
        if c.state == "closed" and c.close_reason is None:
            problems.append(f"{c.id}: closed without a reason")
    if assigned != {a: n for a, n in loads.items() if n}:
        problems.append(f"loads {loads} differ from assignments {assigned}")
    if {c["id"] for c in queue} != {c.id for c in conversations if c.state == "queued"}:
        problems.append("the queue differs from the queued conversations")
    return problems


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh schema on the server at `base_url`, dropped afterwards."""
    name = f"tidal_crash_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    try:
        yield f"{base_url}?options=-csearch_path%3D{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.monotonic()
    reports: list[Report] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.db in ("sqlite", "both"):
            reports.append(
                run_cycles(
                    str(workdir / "crash.db"), args.cycles, workdir, seed=args.seed, name="sqlite"
                )
            )
        if args.db in ("postgres", "both"):
            with postgres_schema(args.postgres_url) as url:
                reports.append(
                    run_cycles(url, args.cycles, workdir, seed=args.seed, name="postgres")
                )
    figures: dict[str, Any] = {
        "bench": "crash",
        "cycles": sum(r.cycles for r in reports),
        "acknowledged": sum(r.acknowledged for r in reports),
        "lost": sum(len(r.lost) for r in reports),
        "invariant_violations": sum(len(r.violations) for r in reports),
    }
    for report in reports:
        print(
            f"{report.database}: {report.cycles} kill -9 cycles, {report.acknowledged} "
            f"messages acknowledged, {len(report.lost)} lost, {len(report.violations)} "
            "invariant violations"
        )
        for problem in (report.lost + report.violations)[:20]:
            print(f"  {problem}")
        figures.update(report.as_json())
    figures["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
