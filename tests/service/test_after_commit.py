"""After a commit, `PublishLiveEvents` hands the stored events to the live-event hub:
each stream receives the events that concern it, and a commit without events none."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tidal.service.persistence.store import CommitBatch, StoredEvent
from tidal.service.running.after_commit import PublishLiveEvents
from tidal.service.running.live_events import EventHub, Subscription


def _event(event_id: int, agent_id: str) -> StoredEvent:
    return StoredEvent(
        id=event_id,
        kind="assigned",
        at=datetime(2026, 11, 25, 10, tzinfo=UTC),
        conversation_id="c-1",
        agent_id=agent_id,
        reason="least_loaded",
        message_id="m-1",
        data={},
        audience=agent_id,
    )


def _received(sub: Subscription) -> list[int]:
    ids = []
    while not sub.queue.empty():
        event = sub.queue.get_nowait()
        assert event is not None
        ids.append(event.id)
    return ids


def test_committed_events_reach_the_streams_they_concern() -> None:
    async def scenario() -> tuple[list[int], list[int]]:
        hub = EventHub()
        agent, supervisor = hub.subscribe("a-1"), hub.subscribe(None)
        publish = PublishLiveEvents(hub)
        publish([], CommitBatch())
        publish([_event(7, "a-1"), _event(8, "a-2")], CommitBatch())
        return _received(agent), _received(supervisor)

    assert asyncio.run(scenario()) == ([7], [7, 8])
