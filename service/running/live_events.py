"""Live events: a hub that fans committed events out to Server-Sent-Event streams.

Events reach the hub only after their transaction committed, with the id the store
gave them, so a client that reconnects with `Last-Event-ID` can read everything it
missed from the events table and then continue live without gaps or repeats.

Wire format (one SSE message per audit-trail event):

    id: 42
    event: assigned
    data: {"id": 42, "kind": "assigned", "at": "...", "conversation_id": "c-1",
           "agent_id": "a-1", "reason": "least_loaded", "message_id": "m-1", "data": {}}

Idle streams get a `: heartbeat` comment line every `heartbeat_seconds`.

Who publishes here: only `PublishLiveEvents` (`tidal.service.running.after_commit`), the
subscriber `tidal.service.running.bootstrap` registers with the runtime for after each
commit. Who reads: `tidal.service.running.event_streams`, behind the SSE routes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field

import orjson

from tidal.service.persistence.store import StoredEvent

#: a subscriber this far behind is cut off; it reconnects and catches up from the table
MAX_PENDING = 10_000
_OVERFLOW = None


def concerns_agent(event: StoredEvent, agent_id: str) -> bool:
    """Whether an event belongs on an agent's own stream."""
    return event.audience == agent_id


@dataclass(eq=False)
class Subscription:
    agent_id: str | None
    queue: asyncio.Queue[StoredEvent | None] = field(default_factory=asyncio.Queue)


class EventHub:
    """Subscribers by scope (one agent, or everything for supervisors). Loop-thread only."""

    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    def subscribe(self, agent_id: str | None) -> Subscription:
        sub = Subscription(agent_id)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, events: Iterable[StoredEvent]) -> None:
        batch = list(events)
        for sub in list(self._subscribers):
            for event in batch:
                if sub.agent_id is None or concerns_agent(event, sub.agent_id):
                    if sub.queue.qsize() >= MAX_PENDING:
                        sub.queue.put_nowait(_OVERFLOW)
                        self._subscribers.discard(sub)
                        break
                    sub.queue.put_nowait(event)

    def close_all(self) -> None:
        """End every stream (shutdown)."""
        for sub in list(self._subscribers):
            sub.queue.put_nowait(_OVERFLOW)
        self._subscribers.clear()


def _sorted(value: object) -> object:
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def sse_message(event: StoredEvent) -> bytes:
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (
        event.id,
        event.kind.encode(),
        orjson.dumps(event.as_json(), default=_sorted),
    )


async def event_stream(
    hub: EventHub,
    agent_id: str | None,
    last_event_id: int | None,
    backlog: Callable[[int], AsyncIterator[list[StoredEvent]]],
    heartbeat_seconds: float,
) -> AsyncIterator[bytes]:
    """The bytes of one SSE response: the missed backlog, then live events."""
    sub = hub.subscribe(agent_id)  # before reading the backlog, so nothing falls between
    try:
        yield b"retry: 2000\n: connected\n\n"
        sent = -1
        if last_event_id is not None:
            sent = last_event_id
            async for page in backlog(last_event_id):
                for missed in page:
                    yield sse_message(missed)
                    sent = missed.id
        while True:
            try:
                event = await asyncio.wait_for(sub.queue.get(), heartbeat_seconds)
            except TimeoutError:
                yield b": heartbeat\n\n"
                continue
            if event is None:  # overflow or shutdown: the client reconnects
                return
            if event.id <= sent:
                continue
            yield sse_message(event)
            sent = event.id
    finally:
        hub.unsubscribe(sub)
