"""The storage port: where conversations, agents and message outcomes live.

The engine reads a store's content once, on construction, and writes every change
back through it; a service restores state by filling a store before building the
engine. `InMemoryStore` is the reference implementation, used by tests and replay.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from tidal.engine.core.model import Agent, Conversation, MessageOutcome


class Store(Protocol):
    def conversations(self) -> Iterable[Conversation]: ...

    def get_conversation(self, conversation_id: str) -> Conversation | None: ...

    def put_conversation(self, conversation: Conversation) -> None: ...

    def agents(self) -> Iterable[Agent]: ...

    def get_agent(self, agent_id: str) -> Agent | None: ...

    def put_agent(self, agent: Agent) -> None: ...

    def get_outcome(self, message_id: str) -> MessageOutcome | None: ...

    def put_outcome(self, outcome: MessageOutcome) -> None: ...


class InMemoryStore:
    """Keeps copies, so callers and the engine never share mutable records."""

    def __init__(self) -> None:
        self._conversations: dict[str, Conversation] = {}
        self._agents: dict[str, Agent] = {}
        self._outcomes: dict[str, MessageOutcome] = {}

    def conversations(self) -> list[Conversation]:
        return [c.snapshot() for c in self._conversations.values()]

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        found = self._conversations.get(conversation_id)
        return found.snapshot() if found is not None else None

    def put_conversation(self, conversation: Conversation) -> None:
        self._conversations[conversation.id] = conversation.snapshot()

    def agents(self) -> list[Agent]:
        return [a.snapshot() for a in self._agents.values()]

    def get_agent(self, agent_id: str) -> Agent | None:
        found = self._agents.get(agent_id)
        return found.snapshot() if found is not None else None

    def put_agent(self, agent: Agent) -> None:
        self._agents[agent.id] = agent.snapshot()

    def get_outcome(self, message_id: str) -> MessageOutcome | None:
        return self._outcomes.get(message_id)

    def put_outcome(self, outcome: MessageOutcome) -> None:
        self._outcomes.setdefault(outcome.message_id, outcome)
