"""A database in memory that refuses chosen writes and can be made unreachable: a fake
of the writer's store port (`tidal.service.running.write_faults.WriterStore`) for fault injection.

Records are encoded with the real codec, as `DurableStore` encodes them, so what the
real store cannot encode (a lone surrogate in a skill, say) fails here the same way.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable

from tidal.engine.core.model import Agent, Conversation, MessageOutcome
from tidal.service.persistence.codec import dumps, loads
from tidal.service.persistence.store import CommitBatch, StoredEvent


class Refused(ValueError):
    """What the fake raises for a refused value (as psycopg's `DataError` would)."""


class FaultyStore:
    def __init__(self) -> None:
        self.conversations: dict[str, str] = {}
        self.agents: dict[str, str] = {}
        self.messages: dict[str, str] = {}
        self.events: list[StoredEvent] = []
        #: ids (of messages, conversations or agents) whose writes are refused
        self.refuse_ids: set[str] = set()
        #: while set, every call fails as an unreachable database does
        self.down = threading.Event()
        self.commits = 0
        self.failed_commits = 0
        #: cleared: commits wait until it is set again (to make requests share one)
        self.gate = threading.Event()
        self.gate.set()
        #: set once a commit started
        self.entered = threading.Event()

    def commit(self, batch: CommitBatch) -> list[StoredEvent]:
        self.entered.set()
        self.gate.wait()
        self._reach()
        ids = {*batch.conversations, *batch.agents, *(o.message_id for o, _ in batch.messages)}
        if ids & self.refuse_ids:
            self.failed_commits += 1
            raise Refused(f"refused: {sorted(ids & self.refuse_ids)}")
        try:  # everything encoded before anything is kept: one transaction
            conversations = {i: dumps(c) for i, c in batch.conversations.items()}
            agents = {i: dumps(a) for i, a in batch.agents.items()}
            messages = {o.message_id: dumps(o) for o, _ in batch.messages}
        except Exception:
            self.failed_commits += 1
            raise
        self.conversations.update(conversations)
        self.agents.update(agents)
        self.messages.update(messages)
        stored = [
            StoredEvent(
                id=len(self.events) + n + 1,
                kind=str(row.event.kind),
                at=row.event.at,
                conversation_id=row.event.conversation_id,
                agent_id=row.event.agent_id,
                reason=row.event.reason,
                message_id=row.message_id,
                data=row.event.data,
            )
            for n, row in enumerate(batch.events)
        ]
        self.events.extend(stored)
        self.commits += 1
        return stored

    def reread(
        self, conversation_ids: Iterable[str], agent_ids: Iterable[str]
    ) -> tuple[list[Conversation], list[Agent]]:
        self._reach()
        conversations = [self.conversations[i] for i in conversation_ids if i in self.conversations]
        agents = [self.agents[i] for i in agent_ids if i in self.agents]
        return [loads(Conversation, c) for c in conversations], [loads(Agent, a) for a in agents]

    def stored_outcome(self, message_id: str) -> MessageOutcome | None:
        self._reach()
        text = self.messages.get(message_id)
        return None if text is None else loads(MessageOutcome, text)

    def _reach(self) -> None:
        if self.down.is_set():
            raise sqlite3.OperationalError("unable to open database file")
