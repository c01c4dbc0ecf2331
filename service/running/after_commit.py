"""What happens once a group of changes is committed: the runtime's named subscribers.

The runtime (`tidal.service.running.runtime`) answers a request only after the
transaction holding its changes committed. Two other parts of the service must learn of
every commit too, and `after_commit` below is the one place they are registered:

- `ConfirmHandledMessages`: the duplicate index (`tidal.service.persistence.handled_messages`)
  learns which message outcomes are now durable. Engine thread, right after the commit
  and before the engine runs another job, so the next message already sees them.
- `PublishLiveEvents`: the committed events, with the ids the database gave them, go to
  the live-event hub (`tidal.service.running.live_events`), which feeds every SSE stream.
  Event loop, where the hub lives.

And one for the rarer moment a failed commit rebuilt the engine from the database
(`tidal.service.running.write_faults`): `TrackRebuiltEngine` points the queue and load
gauges at the new engine's records.
"""

from __future__ import annotations

from dataclasses import dataclass

from tidal.engine.core.engine import Engine
from tidal.service.metrics import Metrics
from tidal.service.persistence.handled_messages import HandledMessages
from tidal.service.persistence.store import CommitBatch, StoredEvent
from tidal.service.running.live_events import EventHub


@dataclass(frozen=True, slots=True)
class ConfirmHandledMessages:
    """Tells the duplicate index which messages' outcomes are durable (engine thread)."""

    memory: HandledMessages

    def __call__(self, batch: CommitBatch) -> None:
        self.memory.confirm(outcome.message_id for outcome, _response in batch.messages)


@dataclass(frozen=True, slots=True)
class PublishLiveEvents:
    """Hands committed events to the live-event hub (event loop)."""

    hub: EventHub

    def __call__(self, events: list[StoredEvent], _batch: CommitBatch) -> None:
        if events:
            self.hub.publish(events)


@dataclass(frozen=True, slots=True)
class TrackRebuiltEngine:
    """Points the gauges at an engine rebuilt after a failed commit."""

    metrics: Metrics

    def __call__(self, rebuilt: Engine) -> None:
        self.metrics.track(rebuilt.conversations(), rebuilt.agents())


@dataclass(frozen=True, slots=True)
class AfterCommit:
    """Every subscriber, by the moment it runs (passed to `Runtime` and `StoreRewind`)."""

    durable: ConfirmHandledMessages
    committed: PublishLiveEvents
    rewound: TrackRebuiltEngine


def after_commit(memory: HandledMessages, hub: EventHub, metrics: Metrics) -> AfterCommit:
    """The subscribers of one running service."""
    return AfterCommit(
        durable=ConfirmHandledMessages(memory),
        committed=PublishLiveEvents(hub),
        rewound=TrackRebuiltEngine(metrics),
    )
