"""Timers (SPEC 2.3) as deadlines held in the data, fired in deadline order.

`deadlines` derives a conversation's pending timers from its fields, so they survive a
restart with the conversation. `TimerQueue` is a heap keyed by (deadline, seq) with
lazy invalidation: an entry fires only if the conversation still holds that deadline.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from engine.core.model import Awaiting, Conversation, State
from engine.core.settings import ChannelSettings


class Timer(StrEnum):
    INACTIVITY = "inactivity"
    AUTO_CLOSE = "auto_close"
    RESPONSE_OVERDUE = "response_overdue"


def deadlines(conversation: Conversation, settings: ChannelSettings) -> dict[str, datetime]:
    c = conversation
    found: dict[str, datetime] = {}
    if c.state is State.ASSIGNED and c.awaiting is Awaiting.CUSTOMER:
        # counted from the agent's latest message, not from the customer's ignored ones
        since = c.last_outbound_at or c.awaiting_since
        if since is not None:
            found[Timer.INACTIVITY.value] = since + settings.inactivity_timeout
    if c.state is State.INACTIVE and c.inactive_since is not None:
        found[Timer.AUTO_CLOSE.value] = c.inactive_since + settings.auto_close_after
    if (
        c.state in (State.QUEUED, State.ASSIGNED)
        and c.awaiting is Awaiting.AGENT
        and c.respond_by is not None
        and not c.overdue_notified
    ):
        found[Timer.RESPONSE_OVERDUE.value] = c.respond_by + settings.response_overdue_after
    return found


@dataclass(frozen=True, slots=True, order=True)
class _Entry:
    deadline: datetime
    seq: int
    conversation_id: str
    timer: str


class TimerQueue:
    """Pending deadlines of all conversations, earliest first."""

    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._seq = 0

    def schedule(self, conversation_id: str, timers: dict[str, datetime]) -> None:
        for name, deadline in timers.items():
            self._seq += 1
            heapq.heappush(self._heap, _Entry(deadline, self._seq, conversation_id, name))

    def pop_due(
        self, now: datetime, current: dict[str, Conversation]
    ) -> tuple[str, str, datetime] | None:
        """The earliest still-valid (conversation id, timer, deadline) at or before `now`."""
        heap = self._heap
        while heap and heap[0].deadline <= now:
            entry = heapq.heappop(heap)
            conversation = current.get(entry.conversation_id)
            if conversation is not None and conversation.timers.get(entry.timer) == entry.deadline:
                return entry.conversation_id, entry.timer, entry.deadline
        return None

    def next_deadline(self, current: dict[str, Conversation]) -> datetime | None:
        heap = self._heap
        while heap:
            entry = heap[0]
            conversation = current.get(entry.conversation_id)
            if conversation is not None and conversation.timers.get(entry.timer) == entry.deadline:
                return entry.deadline
            heapq.heappop(heap)  # stale: drop it now rather than on every look
        return None
