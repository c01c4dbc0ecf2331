"""A small desk for tests: an engine on a manual clock, and one-line messages."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from tidal.engine.core.clock import ManualClock
from tidal.engine.core.engine import Engine
from tidal.engine.core.intents import Classification, Direction
from tidal.engine.core.model import Agent, Conversation, IncomingMessage, MessageOutcome
from tidal.engine.core.settings import ChannelSettings, RoutingSettings
from tidal.engine.core.store import InMemoryStore, Store
from tidal.engine.core.workflow import DEFAULT_WORKFLOW, WorkflowRules

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def at(clock_time: str) -> datetime:
    """`"10:05:30"` on the test day."""
    parts = [int(p) for p in clock_time.split(":")]
    hour, minute, second = (*parts, 0)[:3]
    return START.replace(hour=hour, minute=minute, second=second)


class Desk:
    def __init__(
        self,
        settings: RoutingSettings | None = None,
        workflow: WorkflowRules = DEFAULT_WORKFLOW,
        *,
        store: Store | None = None,
        start: datetime = START,
        **channel_settings: object,
    ) -> None:
        if settings is None:
            settings = RoutingSettings(defaults=ChannelSettings(**channel_settings))  # type: ignore[arg-type]
        self.clock = ManualClock(start)
        self.store = store if store is not None else InMemoryStore()
        self.engine = Engine(settings, workflow, self.clock, self.store)
        self._ids = itertools.count(1)

    # -- time ---------------------------------------------------------------------------
    def wait(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))

    def until(self, clock_time: str) -> None:
        self.clock.set(at(clock_time))

    # -- people -------------------------------------------------------------------------
    def agent(self, agent_id: str = "a-1", **fields: object) -> Agent:
        return self.engine.upsert_agent(agent_id, **fields)  # type: ignore[arg-type]

    def say(
        self,
        direction: Direction,
        conversation_id: str,
        intent: str,
        *,
        agent_id: str | None = None,
        message_id: str | None = None,
        skills: frozenset[str] = frozenset(),
        channel: str | None = None,
        confidence: float = 1.0,
    ) -> MessageOutcome:
        message = IncomingMessage(
            message_id=message_id or f"m-{next(self._ids)}",
            conversation_id=conversation_id,
            direction=direction,
            text=intent,
            channel=channel,
            agent_id=agent_id,
            skills=skills,
        )
        return self.engine.handle(message, Classification(intent, confidence, "rule"))

    def customer(self, conversation_id: str, intent: str = "other", **kw: object) -> MessageOutcome:
        return self.say("inbound", conversation_id, intent, **kw)  # type: ignore[arg-type]

    def reply(
        self,
        conversation_id: str,
        intent: str = "other",
        agent_id: str | None = None,
        **kw: object,
    ) -> MessageOutcome:
        """The agent holding the conversation (or `agent_id`) writes."""
        if agent_id is None:
            current = self.conv(conversation_id)
            agent_id = current.agent_id or current.last_agent_id
        return self.say("outbound", conversation_id, intent, agent_id=agent_id, **kw)  # type: ignore[arg-type]

    # -- looking ------------------------------------------------------------------------
    def conv(self, conversation_id: str) -> Conversation:
        found = self.engine.conversation(conversation_id)
        assert found is not None, conversation_id
        return found

    def load(self, agent_id: str) -> int:
        found = self.engine.agent(agent_id)
        assert found is not None
        return found.load

    def queue_ids(self) -> list[str]:
        return [c.id for c in self.engine.queue()]
