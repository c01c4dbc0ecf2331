"""Fault injection at the writer: a commit the database refuses, or a database that is
unreachable, never wedges the service, and memory is never ahead of the database.

The real runtime, engine and engine store run over `FaultyStore`, a database in memory
that refuses chosen writes (and, like the real store, cannot encode a lone surrogate).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.service.conftest import T0
from tests.service.faulty_store import FaultyStore
from tidal.engine.core.clock import ManualClock
from tidal.engine.core.engine import Engine
from tidal.engine.core.intents import Classification
from tidal.engine.core.model import Agent, Conversation, IncomingMessage
from tidal.engine.rulesio.bundle import EngineRules
from tidal.service.http.problems import Problem
from tidal.service.metrics import Metrics
from tidal.service.persistence.codec import loads
from tidal.service.persistence.handled_messages import HandledMessages
from tidal.service.running.runtime import Runtime
from tidal.service.running.write_faults import StoreRewind

pytestmark = pytest.mark.timeout(60)

SUBSTANTIVE = Classification("other", 0.9, "model")
LONE_SURROGATE = "a\ud800"


class Writer:
    """A runtime over a `FaultyStore`, as `tidal.service.running.bootstrap` wires the real one."""

    def __init__(self, engine_rules: EngineRules) -> None:
        self.store = FaultyStore()
        self.memory = HandledMessages(self.store.stored_outcome)
        engine = Engine(engine_rules.routing, engine_rules.workflow, ManualClock(T0), self.memory)
        self.runtime = Runtime(
            engine,
            self.store,
            Metrics(),
            rewind=StoreRewind(self.store, self.memory),
            on_committed=lambda _events, _batch: None,
            on_durable=lambda b: self.memory.confirm(o.message_id for o, _ in b.messages),
            probe_seconds=0.02,
        )

    def run(self, scenario: Callable[[Writer], Awaitable[None]]) -> None:
        async def main() -> None:
            self.runtime.start(asyncio.get_running_loop())
            await scenario(self)

        try:
            asyncio.run(main())
        finally:
            self.store.gate.set()
            self.store.down.clear()
            self.runtime.stop()

    async def upsert(self, agent_id: str, *skills: str) -> Agent:
        return await self.runtime.execute(
            lambda engine: engine.upsert_agent(
                agent_id,
                status="available",
                preferred_concurrency=1,
                max_concurrency=2,
                skills=frozenset(skills),
            )
        )

    async def message(self, message_id: str, conversation_id: str, **extra: Any) -> Any:
        message = IncomingMessage(message_id, conversation_id, "inbound", "hello", **extra)
        return await self.runtime.execute(lambda engine: engine.handle(message, SUBSTANTIVE))

    async def grouped(self, calls: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
        """Run `calls` so that all but the first share one commit; results or errors."""
        self.store.gate.clear()
        self.store.entered.clear()
        first = asyncio.ensure_future(calls[0]())
        while not self.store.entered.is_set():
            await asyncio.sleep(0.001)
        rest = [asyncio.ensure_future(call()) for call in calls[1:]]
        await asyncio.sleep(0.05)  # all queued behind the held commit
        self.store.gate.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    async def memory_equals_database(self) -> None:
        """The engine's conversations and agents are exactly the stored ones."""
        conversations = await self.runtime.execute(lambda engine: engine.conversations())
        agents = await self.runtime.execute(lambda engine: engine.agents())
        stored_conversations = sorted(
            (loads(Conversation, text) for text in self.store.conversations.values()),
            key=lambda c: c.id,
        )
        stored_agents = sorted(
            (loads(Agent, text) for text in self.store.agents.values()), key=lambda a: a.id
        )
        assert conversations == stored_conversations
        assert agents == stored_agents


def _refused(result: object) -> Problem:
    assert isinstance(result, Problem), result
    return result


def test_poison_skill_surrogate_is_refused_alone_and_the_rest_of_its_group_commits(
    engine_rules: EngineRules,
) -> None:
    async def scenario(w: Writer) -> None:
        calls = [lambda i=i: w.upsert(f"a-{i}") for i in range(8)]
        calls[5] = lambda: w.upsert("a-poison", LONE_SURROGATE)
        results = await w.grouped(calls)
        problem = _refused(results[5])
        assert (problem.status, problem.slug) == (422, "validation")
        assert [r.id for n, r in enumerate(results) if n != 5] == [
            f"a-{i}" for i in range(8) if i != 5
        ]
        assert sorted(w.store.agents) == [f"a-{i}" for i in range(8) if i != 5]
        assert w.runtime.failure is None
        await w.memory_equals_database()
        # and the service goes on taking changes
        assert (await w.upsert("a-after")).id == "a-after"

    Writer(engine_rules).run(scenario)


def test_a_refused_message_leaves_no_trace_and_others_on_its_conversation_commit(
    engine_rules: EngineRules,
) -> None:
    async def scenario(w: Writer) -> None:
        w.store.refuse_ids.add("m-bad")
        results = await w.grouped(
            [
                lambda: w.message("m-0", "c-other"),
                lambda: w.message("m-1", "c-1"),
                lambda: w.message("m-bad", "c-1"),
                lambda: w.message("m-3", "c-1"),
                lambda: w.message("m-4", "c-new"),
            ]
        )
        assert _refused(results[2]).status == 422
        assert sorted(w.store.messages) == ["m-0", "m-1", "m-3", "m-4"]
        assert all(not isinstance(r, BaseException) for n, r in enumerate(results) if n != 2)
        await w.memory_equals_database()
        # the refused id was not used up: sent again, clean, it is a new message
        w.store.refuse_ids.clear()
        outcome = await w.message("m-bad", "c-1")
        assert not outcome.duplicate
        assert "m-bad" in w.store.messages

    Writer(engine_rules).run(scenario)


def test_retry_after_failure_is_refused_again_and_the_writer_keeps_serving(
    engine_rules: EngineRules,
) -> None:
    async def scenario(w: Writer) -> None:
        for _attempt in range(3):
            with pytest.raises(Problem) as refused:
                await w.upsert("a-x", LONE_SURROGATE)
            assert refused.value.status == 422
            assert w.runtime.failure is None
            assert await w.runtime.execute(lambda engine: engine.agent("a-x")) is None
        assert (await w.message("m-1", "c-1")).conversation.id == "c-1"
        await w.memory_equals_database()

    Writer(engine_rules).run(scenario)


def test_a_database_outage_answers_503_and_recovers_by_itself(
    engine_rules: EngineRules,
) -> None:
    async def scenario(w: Writer) -> None:
        await w.upsert("a-before")
        w.store.down.set()
        with pytest.raises(Problem) as failed:
            await w.message("m-during", "c-during")
        assert failed.value.status == 503
        assert w.runtime.failure is not None
        with pytest.raises(Problem) as refused:  # reads too, while it lasts
            await w.runtime.execute(lambda engine: engine.agents())
        assert refused.value.status == 503
        w.store.down.clear()
        deadline = time.monotonic() + 10
        while w.runtime.failure is not None:
            assert time.monotonic() < deadline, "the writer did not recover"
            await asyncio.sleep(0.01)
        # what failed during the outage had no effect; the message may be sent again
        assert await w.runtime.execute(lambda engine: engine.conversation("c-during")) is None
        assert not (await w.message("m-during", "c-during")).duplicate
        await w.memory_equals_database()

    Writer(engine_rules).run(scenario)


def test_requests_queued_behind_a_commit_that_meets_an_outage_answer_503(
    engine_rules: EngineRules,
) -> None:
    async def scenario(w: Writer) -> None:
        w.store.gate.clear()
        w.store.entered.clear()
        first = asyncio.ensure_future(w.upsert("a-0"))
        while not w.store.entered.is_set():
            await asyncio.sleep(0.001)
        w.store.down.set()  # the database goes away while the commit is in flight
        rest = [asyncio.ensure_future(w.upsert(f"a-{i}")) for i in range(1, 4)]
        await asyncio.sleep(0.05)
        w.store.gate.set()
        results = await asyncio.gather(first, *rest, return_exceptions=True)
        assert [_refused(r).status for r in results] == [503] * 4
        w.store.down.clear()
        while w.runtime.failure is not None:
            await asyncio.sleep(0.01)
        assert w.store.agents == {}
        await w.memory_equals_database()

    Writer(engine_rules).run(scenario)
