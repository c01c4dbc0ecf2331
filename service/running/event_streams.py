"""The bytes of one live-event stream of a running service (`GET /v1/events`,
`GET /v1/agents/{id}/events`).

A client reconnecting with `Last-Event-ID` first gets what it missed, read from the
events table a page at a time off the event loop, then the live events the hub
(`tidal.service.running.live_events`) receives after each commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio

from tidal.service.persistence.store import StoredEvent
from tidal.service.running.live_events import event_stream
from tidal.service.running.services import Services

#: events read from the table per query while catching a client up
PAGE = 500


async def live_event_stream(
    services: Services, agent_id: str | None, last_event_id: int | None
) -> AsyncIterator[bytes]:
    """One agent's events (`agent_id`), or everyone's (None), after `last_event_id`."""

    def read_page(after: int) -> list[StoredEvent]:
        return services.store.events_after(after, agent_id=agent_id, limit=PAGE)

    async def backlog(after: int) -> AsyncIterator[list[StoredEvent]]:
        while True:
            page = await anyio.to_thread.run_sync(read_page, after)
            if page:
                yield page
                after = page[-1].id
            if len(page) < PAGE:
                return

    services.metrics.sse_streams.inc()
    try:
        async for chunk in event_stream(
            services.hub, agent_id, last_event_id, backlog, services.settings.heartbeat_seconds
        ):
            yield chunk
    finally:
        services.metrics.sse_streams.dec()
