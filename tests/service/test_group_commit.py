"""Group commit: answers wait for their transaction, and calls queued while a commit is
in progress share the next one. Runs the real runtime with a store fake whose commit
the test holds open."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from tests.service.conftest import T0
from tidal.engine.core.clock import ManualClock
from tidal.engine.core.engine import Engine
from tidal.engine.rulesio.bundle import EngineRules
from tidal.service.metrics import Metrics
from tidal.service.persistence.store import CommitBatch, StoredEvent
from tidal.service.running.runtime import Runtime

pytestmark = pytest.mark.timeout(60)


class HeldStore:
    """Records each committed batch; the first commit waits until released."""

    def __init__(self) -> None:
        self.batches: list[CommitBatch] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def commit(self, batch: CommitBatch) -> list[StoredEvent]:
        self.entered.set()
        self.release.wait()
        self.batches.append(batch)
        return []


def _runtime(engine_rules: EngineRules, store: HeldStore) -> Runtime:
    engine = Engine(engine_rules.routing, engine_rules.workflow, ManualClock(T0))

    def rewind(_engine: Engine, _touched: object) -> Engine:
        raise AssertionError("no commit fails here")

    return Runtime(
        engine,
        store,  # type: ignore[arg-type]
        Metrics(),
        rewind=rewind,
        on_committed=lambda _e, _b: None,
    )


def _upsert(agent_id: str) -> Any:
    return lambda engine: engine.upsert_agent(
        agent_id, status="available", preferred_concurrency=1, max_concurrency=2
    )


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.001)


def test_calls_queued_during_a_commit_share_the_next_transaction(
    engine_rules: EngineRules,
) -> None:
    store = HeldStore()
    runtime = _runtime(engine_rules, store)

    async def scenario() -> None:
        runtime.start(asyncio.get_running_loop())
        first = asyncio.ensure_future(runtime.execute(_upsert("a-0")))
        await _until(store.entered.is_set)  # a-0's transaction is open
        rest = [asyncio.ensure_future(runtime.execute(_upsert(f"a-{i}"))) for i in range(1, 6)]
        await _until(lambda: runtime._jobs.qsize() == 5)
        await asyncio.sleep(0)
        assert not first.done() and not any(f.done() for f in rest)  # nothing answered yet
        store.release.set()
        agents = await asyncio.gather(first, *rest)
        assert [a.id for a in agents] == [f"a-{i}" for i in range(6)]

    try:
        asyncio.run(scenario())
    finally:
        store.release.set()
        runtime.stop()
    assert [sorted(b.agents) for b in store.batches] == [["a-0"], [f"a-{i}" for i in range(1, 6)]]
