"""Timers are deadlines in the data: a replay that jumps the clock gives exactly the
history a live engine gives when it wakes at every deadline (docs/concepts.md#timers)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.harness import Desk
from tidal.engine.core.model import Event
from tidal.engine.core.settings import ChannelSettings, RoutingSettings

DELAYS = [0, 15, 200, 700, 1900, 5400, 90_000]
STEP = st.tuples(
    st.sampled_from(DELAYS),
    st.sampled_from(["c-1", "c-2", "c-3"]),
    st.sampled_from(
        [
            ("inbound", "other"),
            ("inbound", "gratitude"),
            ("inbound", "away"),
            ("inbound", "urgent"),
            ("inbound", "deny"),
            ("status", "offline"),
            ("status", "available"),
            ("status", "busy"),
        ]
    )
    | st.tuples(
        st.sampled_from(["a-1", "a-2"]),
        st.sampled_from(["other", "offer_more_help", "hold", "closing"]),
    ),
)


def run(
    script: list[tuple[int, str, tuple[str, str]]], *, live: bool, requeue: bool
) -> tuple[list[Any], list[Any]]:
    desk = Desk(RoutingSettings(defaults=ChannelSettings(requeue_overdue=requeue)))
    desk.agent("a-1", preferred_concurrency=2, max_concurrency=3)
    desk.agent("a-2", preferred_concurrency=1, max_concurrency=2)
    for delay, conversation_id, (kind, what) in script:
        target = desk.clock.now() + timedelta(seconds=delay)
        if live:  # a live service wakes up at every deadline
            while (deadline := desk.engine.next_deadline()) is not None and deadline <= target:
                desk.clock.set(deadline)
                desk.engine.tick()
        desk.clock.set(target)
        if kind == "status":
            desk.agent("a-1", status=what)
        elif kind == "inbound":
            desk.customer(conversation_id, what)
        else:  # an agent writes (the script names it: the state must not choose it)
            desk.reply(conversation_id, what, agent_id=kind)
    changes = desk.engine.drain_changes()
    history = [_event(e) for e in changes.events]
    state = [dataclasses.replace(c, version=0) for c in desk.engine.conversations()]
    return history, state


def _event(event: Event) -> tuple[Any, ...]:
    return (event.kind, event.at, event.conversation_id, event.agent_id, event.reason)


@settings(max_examples=300, deadline=None)
@given(script=st.lists(STEP, min_size=1, max_size=25), requeue=st.booleans())
def test_replay_with_clock_jumps_matches_live_time(
    script: list[tuple[int, str, tuple[str, str]]], requeue: bool
) -> None:
    assert run(script, live=False, requeue=requeue) == run(script, live=True, requeue=requeue)


def test_timers_fire_in_deadline_order_across_conversations() -> None:
    desk = Desk()
    desk.agent("a-1", preferred_concurrency=3, max_concurrency=3)
    for conversation_id in ("early", "middle", "late"):
        desk.customer(conversation_id)
    for conversation_id, minute in (("early", 5), ("late", 8), ("middle", 10), ("late", 20)):
        desk.until(f"10:{minute:02d}")
        desk.reply(conversation_id)  # late: its latest agent message counts, 10:20
    desk.wait(hours=2)
    fired = [(e.conversation_id, e.at.minute) for e in desk.engine.tick()]
    assert fired == [("early", 35), ("middle", 40), ("late", 50)]
