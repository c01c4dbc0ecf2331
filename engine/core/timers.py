"""Timers (docs/concepts.md#timers) as deadlines held in the data, fired in deadline order.

`deadlines` derives a conversation's pending timers from its fields, so they survive a
restart with the conversation. `TimerQueue` is a heap keyed by (deadline, seq) with
lazy invalidation: an entry fires only if the conversation still holds that deadline.
"""

from __future__ import annotations

import heapq
from datetime import datetime
from enum import StrEnum

from tidal.engine.core.model import Awaiting, Conversation, State
from tidal.engine.core.settings import ChannelSettings


class Timer(StrEnum):
    INACTIVITY = "inactivity"
    AUTO_CLOSE = "auto_close"
    RESPONSE_OVERDUE = "response_overdue"


# plain strings: `deadlines` runs on every change, enum attribute lookups add up
_INACTIVITY = Timer.INACTIVITY.value
_AUTO_CLOSE = Timer.AUTO_CLOSE.value
_RESPONSE_OVERDUE = Timer.RESPONSE_OVERDUE.value
_QUEUED, _ASSIGNED, _INACTIVE = State.QUEUED, State.ASSIGNED, State.INACTIVE
_AGENT, _CUSTOMER = Awaiting.AGENT, Awaiting.CUSTOMER


def deadlines(conversation: Conversation, settings: ChannelSettings) -> dict[str, datetime]:
    c = conversation
    state, awaiting = c.state, c.awaiting
    found: dict[str, datetime] = {}
    if state is _ASSIGNED and awaiting is _CUSTOMER:
        # counted from the agent's latest message, not from the customer's ignored ones
        since = c.last_outbound_at or c.awaiting_since
        if since is not None:
            found[_INACTIVITY] = since + settings.inactivity_timeout
    elif state is _INACTIVE and c.inactive_since is not None:
        found[_AUTO_CLOSE] = c.inactive_since + settings.auto_close_after
    if (
        awaiting is _AGENT
        and (state is _QUEUED or state is _ASSIGNED)
        and c.respond_by is not None
        and not c.overdue_notified
    ):
        found[_RESPONSE_OVERDUE] = c.respond_by + settings.response_overdue_after
    return found


#: (deadline, seq, conversation id, timer name): plain tuples keep heap comparisons cheap
_Entry = tuple[datetime, int, str, str]


class TimerQueue:
    """Pending deadlines of all conversations, earliest first."""

    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, conversation_id: str, timers: dict[str, datetime]) -> None:
        for name, deadline in timers.items():
            self._seq += 1
            heapq.heappush(self._heap, (deadline, self._seq, conversation_id, name))

    def pop_due(
        self, now: datetime, current: dict[str, Conversation]
    ) -> tuple[str, str, datetime] | None:
        """The earliest still-valid (conversation id, timer, deadline) at or before `now`."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            deadline, _, conversation_id, timer = heapq.heappop(heap)
            conversation = current.get(conversation_id)
            if conversation is not None and conversation.timers.get(timer) == deadline:
                return conversation_id, timer, deadline
        return None

    def next_deadline(self, current: dict[str, Conversation]) -> datetime | None:
        heap = self._heap
        while heap:
            deadline, _, conversation_id, timer = heap[0]
            conversation = current.get(conversation_id)
            if conversation is not None and conversation.timers.get(timer) == deadline:
                return deadline
            heapq.heappop(heap)  # stale: drop it now rather than on every look
        return None
