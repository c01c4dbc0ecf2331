"""What the writer does when a commit fails, so that no write can take it down.

By the time a group of requests is committed the engine has already applied them in
memory. When the commit fails, memory is ahead of the database, so first it is put back:
every conversation and agent the group touched is read again from the database and a
fresh engine is built over them (`StoreRewind`). Then:

- the database could not be read either: it is unreachable. The writer answers 503
  until a read succeeds again (see `tidal.service.running.runtime`); nothing acknowledged is lost,
  since answers are only given after their commit.
- the database answers: something in the group is at fault (text it cannot store, a
  value a driver refuses, a bug). The runtime runs the group's requests again and
  commits them in halves until the ones at fault are alone; each of those is answered
  with a problem and leaves no trace, and all the others commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from tidal.engine.core.engine import Engine
from tidal.engine.core.model import Agent, Conversation
from tidal.service.http.problems import Problem
from tidal.service.persistence.faults import is_unavailable
from tidal.service.persistence.handled_messages import HandledMessages
from tidal.service.persistence.store import CommitBatch, StaleWriter, StoredEvent

#: seconds between two attempts to reach the database while it is unreachable
PROBE_SECONDS = 1.0


class WriterStore(Protocol):
    """What the runtime needs of the database (`DurableStore` is the real one)."""

    def commit(self, batch: CommitBatch) -> list[StoredEvent]: ...

    def reread(
        self, conversation_ids: Iterable[str], agent_ids: Iterable[str]
    ) -> tuple[list[Conversation], list[Agent]]: ...


@dataclass
class Touched:
    """The records that uncommitted changes touched."""

    conversations: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)

    def add(self, batch: CommitBatch) -> None:
        self.conversations.update(batch.conversations)
        self.agents.update(batch.agents)
        # an event may name a record its batch did not snapshot: read it again as well
        for row in batch.events:
            if row.event.conversation_id is not None:
                self.conversations.add(row.event.conversation_id)
            if row.event.agent_id is not None:
                self.agents.add(row.event.agent_id)
        for outcome, _response in batch.messages:
            self.conversations.add(outcome.conversation_id)

    def clear(self) -> None:
        self.conversations.clear()
        self.agents.clear()


class StoreRewind:
    """Puts memory back to what the database holds for the touched records."""

    def __init__(
        self,
        store: WriterStore,
        memory: HandledMessages,
        on_rewound: Callable[[Engine], None] | None = None,
    ) -> None:
        self._store = store
        self._memory = memory
        self._on_rewound = on_rewound

    def __call__(self, engine: Engine, touched: Touched) -> Engine:
        """A fresh engine over memory as the database holds it; raises (changing
        nothing) when the database cannot be read."""
        conversations, agents = self._store.reread(touched.conversations, touched.agents)
        self._memory.rewind(touched.conversations, touched.agents, conversations, agents)
        # the engine's indices, loads and timers are rebuilt from the store, as at start
        fresh = Engine(engine.settings, engine.workflow, engine.clock, self._memory)
        if self._on_rewound is not None:
            self._on_rewound(fresh)
        return fresh


Rewind = Callable[[Engine, Touched], Engine]


def unavailable() -> Problem:
    return Problem(
        "unavailable",
        "the database cannot be reached; retry shortly",
        headers={"Retry-After": str(int(PROBE_SECONDS) + 1)},
    )


def stale_writer() -> Problem:
    return Problem("unavailable", "another Tidal service writes this database now")


def refused(exc: BaseException) -> Problem:
    """The answer to a request whose changes the database refused on their own."""
    if isinstance(exc, StaleWriter):
        return stale_writer()
    if is_unavailable(exc):
        return unavailable()
    return Problem(
        "validation",
        "the database refused to store this request's changes "
        f"({type(exc).__name__}); nothing was changed",
    )
