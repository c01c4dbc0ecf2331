"""docs/concepts.md#routing, docs/concepts.md#adaptive-response-timer as named examples: who gets
which conversation, and in which order."""

from __future__ import annotations

from datetime import timedelta

from tests.engine.harness import Desk, at
from tidal.engine.core.model import Awaiting, State
from tidal.engine.core.settings import ChannelSettings, RoutingSettings


def newest_delay_only() -> RoutingSettings:
    """pace_alpha 1: the pace is the latest reply delay, which keeps examples exact."""
    return RoutingSettings(defaults=ChannelSettings(pace_alpha=1.0))


def reply_after(desk: Desk, conversation_id: str, turn_at: str, writes_at: str) -> None:
    """`a-0` hands the turn to the customer at `turn_at`; the customer writes at `writes_at`
    (with pace_alpha 1 that delay becomes the customer's pace)."""
    desk.until(turn_at)
    desk.reply(conversation_id, agent_id="a-0")
    desk.until(writes_at)
    desk.customer(conversation_id)


def marcus_and_sophie(marcus_writes_at: str, marcus_turn_at: str) -> Desk:
    """Sophie answers in about 10 min, Marcus in about 20 s; both now wait for a-0."""
    desk = Desk(newest_delay_only(), start=at("09:30"))
    desk.agent("a-0", preferred_concurrency=5, max_concurrency=5)
    desk.customer("sophie")
    desk.customer("marcus")
    reply_after(desk, "sophie", "09:50", "10:00")
    assert desk.conv("sophie").respond_by == at("10:10")
    reply_after(desk, "marcus", marcus_turn_at, marcus_writes_at)
    return desk


def test_engaged_customer_is_served_before_an_intermittent_one() -> None:
    desk = marcus_and_sophie("10:05", marcus_turn_at="10:04:40")
    assert desk.conv("marcus").respond_by == at("10:05:30")
    worklist = desk.engine.worklist("a-0")
    assert [c.id for c in worklist.awaiting_agent] == ["marcus", "sophie"]
    desk.agent("a-0", status="offline")  # both back to the queue, keeping respond_by
    assert desk.queue_ids() == ["marcus", "sophie"]
    desk.agent("a-1", preferred_concurrency=1, max_concurrency=2)
    assert desk.conv("marcus").agent_id == "a-1"
    assert desk.queue_ids() == ["sophie"]


def test_intermittent_customer_first_when_the_engaged_one_writes_later() -> None:
    desk = marcus_and_sophie("10:09:45", marcus_turn_at="10:09:25")
    assert desk.conv("marcus").respond_by == at("10:10:15")
    worklist = desk.engine.worklist("a-0")
    assert [c.id for c in worklist.awaiting_agent] == ["sophie", "marcus"]
    desk.agent("a-0", status="offline")
    assert desk.queue_ids() == ["sophie", "marcus"]
    desk.agent("a-1", preferred_concurrency=1, max_concurrency=2)
    assert desk.conv("sophie").agent_id == "a-1"


def test_pace_is_an_exponential_mean_of_reply_delays() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.reply("c-1")
    desk.wait(seconds=20)
    desk.customer("c-1")
    assert desk.engine.priority("c-1").pace_seconds == 0.5 * 20 + 0.5 * 120
    desk.reply("c-1")
    desk.wait(seconds=40)
    desk.customer("c-1")
    explained = desk.engine.priority("c-1")
    assert explained.pace_seconds == 0.5 * 40 + 0.5 * 70
    assert explained.target_seconds == 55
    assert explained.respond_by == desk.clock.now() + timedelta(seconds=55)


def test_target_is_clamped_between_target_min_and_target_max() -> None:
    desk = Desk(newest_delay_only())
    desk.agent("a-1")
    desk.customer("fast")
    desk.reply("fast")
    desk.wait(seconds=5)
    assert desk.customer("fast").conversation.target_seconds == 30
    desk.customer("slow")
    desk.reply("slow")
    desk.wait(hours=3)
    assert desk.customer("slow").conversation.target_seconds == 15 * 60


def test_no_starvation_the_slow_customer_is_served_by_its_respond_by() -> None:
    desk = Desk(newest_delay_only(), start=at("08:55"))
    desk.agent("a-0", preferred_concurrency=1, max_concurrency=1)
    desk.customer("slow")
    reply_after(desk, "slow", "09:00", "10:00")  # pace 1 h: target 15 min
    assert desk.conv("slow").respond_by == at("10:15")
    desk.agent("a-0", status="offline")
    desk.agent("a-1", preferred_concurrency=1, max_concurrency=1, status="away")
    desk.customer("engaged-0")
    desk.agent("a-1", status="available")  # takes the earliest respond_by: engaged-0
    assert desk.conv("engaged-0").agent_id == "a-1"
    served_at = None
    for minute in range(1, 40):
        desk.until(f"10:{minute:02d}")
        desk.customer(f"engaged-{minute}")  # a new engaged customer every minute
        holder = desk.engine.worklist("a-1").awaiting_agent[0]
        desk.engine.close_conversation(holder.id, "resolved")  # one served per minute
        if desk.conv("slow").agent_id == "a-1":
            served_at = desk.clock.now()
            break
    assert served_at is not None and served_at <= at("10:15")
    # engaged customers who wrote after it were served first, while that was safe
    assert desk.conv("engaged-5").state is State.CLOSED


def test_new_work_goes_to_the_lowest_load_over_preferred() -> None:
    desk = Desk()
    desk.agent("a-1", preferred_concurrency=2, max_concurrency=4)
    desk.agent("a-2", preferred_concurrency=4, max_concurrency=4)
    for i in range(4):
        desk.customer(f"c-{i}")
    # a-1 0/2 -> c-0 (oldest assignment: never), a-2 0/4 -> c-1, then a-2 1/4 < a-1 1/2
    assert [desk.conv(f"c-{i}").agent_id for i in range(4)] == ["a-1", "a-2", "a-2", "a-1"]


def test_ties_go_to_the_oldest_last_assignment_then_agent_id() -> None:
    desk = Desk()
    desk.agent("a-2")
    desk.agent("a-1")
    desk.customer("c-1")
    assert desk.conv("c-1").agent_id == "a-1"  # neither assigned yet: agent id
    desk.wait(seconds=1)
    desk.customer("c-2")
    assert desk.conv("c-2").agent_id == "a-2"
    desk.engine.close_conversation("c-1", "resolved")
    desk.engine.close_conversation("c-2", "resolved")
    desk.wait(seconds=1)
    desk.customer("c-3")
    assert desk.conv("c-3").agent_id == "a-1"  # a-1's last assignment is older


def test_new_work_never_goes_to_an_agent_at_preferred() -> None:
    desk = Desk()
    desk.agent("a-1", preferred_concurrency=1, max_concurrency=3)
    desk.customer("c-1")
    outcome = desk.customer("c-2")
    assert outcome.routing.reason == "queued"
    assert desk.load("a-1") == 1


def test_sticky_reactivation_goes_above_preferred() -> None:
    desk = Desk()
    desk.agent("a-1", preferred_concurrency=1, max_concurrency=2)
    desk.customer("c-1")
    desk.reply("c-1")
    desk.customer("c-1", "away")
    desk.customer("c-2")
    assert desk.load("a-1") == 1
    outcome = desk.customer("c-1")
    assert (outcome.routing.reason, outcome.routing.agent_id) == ("sticky", "a-1")
    assert desk.load("a-1") == 2


def test_sticky_is_refused_at_the_maximum() -> None:
    desk = Desk()
    desk.agent("a-1", preferred_concurrency=1, max_concurrency=1)
    desk.customer("c-1")
    desk.customer("c-1", "away")
    desk.customer("c-2")
    outcome = desk.customer("c-1")
    assert (outcome.routing.reason, outcome.routing.agent_id) == ("sticky_unavailable", None)
    assert outcome.conversation.state is State.QUEUED
    assert outcome.conversation.last_agent_id == "a-1"


def test_sticky_unavailable_goes_to_another_agent_that_has_room() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.customer("c-1", "away")
    desk.agent("a-1", status="away")
    desk.agent("a-2")
    outcome = desk.customer("c-1")
    assert (outcome.routing.reason, outcome.routing.agent_id) == ("sticky_unavailable", "a-2")


def test_busy_agent_gets_returning_work_but_no_new_work() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.customer("c-1", "away")
    desk.agent("a-1", status="busy")
    assert desk.customer("c-2").routing.reason == "queued"
    assert desk.customer("c-1").routing.reason == "sticky"


def test_away_agent_keeps_its_conversations_and_gets_nothing() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.customer("c-2")
    desk.customer("c-2", "away")
    desk.agent("a-1", status="away")
    assert desk.conv("c-1").agent_id == "a-1"
    assert desk.customer("c-2").routing.reason == "sticky_unavailable"
    assert desk.customer("c-3").routing.reason == "queued"


def test_offline_releases_everything() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("waits-for-agent")
    respond_by = desk.conv("waits-for-agent").respond_by
    desk.customer("waits-for-customer")
    desk.reply("waits-for-customer")
    desk.agent("a-1", status="offline")
    queued = desk.conv("waits-for-agent")
    assert queued.state is State.QUEUED and queued.respond_by == respond_by
    paused = desk.conv("waits-for-customer")
    assert paused.state is State.INACTIVE and paused.last_agent_id == "a-1"
    assert desk.load("a-1") == 0
    assert desk.engine.worklist("a-1").inactive[0].id == "waits-for-customer"


def test_offline_releases_to_other_agents_in_priority_order() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.wait(seconds=10)
    desk.customer("c-2")
    desk.agent("a-2", preferred_concurrency=1, max_concurrency=1)
    desk.agent("a-1", status="offline")
    assert desk.conv("c-1").agent_id == "a-2"
    assert desk.queue_ids() == ["c-2"]


def test_skills_no_head_of_line_blocking() -> None:
    desk = Desk()
    desk.customer("needs-spanish", skills=frozenset({"spanish"}))
    desk.wait(seconds=1)
    desk.customer("needs-billing", skills=frozenset({"billing"}))
    desk.agent("a-1", skills={"billing", "english"})
    assert desk.conv("needs-billing").agent_id == "a-1"
    assert desk.queue_ids() == ["needs-spanish"]


def test_new_work_needs_every_required_skill() -> None:
    desk = Desk()
    desk.agent("a-1", skills={"billing"})
    desk.agent("a-2", skills={"billing", "spanish"})
    desk.customer("c-1", skills=frozenset({"billing", "spanish"}))
    assert desk.conv("c-1").agent_id == "a-2"


def test_lowering_limits_never_evicts() -> None:
    desk = Desk()
    desk.agent("a-1", preferred_concurrency=3, max_concurrency=3)
    for i in range(3):
        desk.customer(f"c-{i}")
    desk.agent("a-1", preferred_concurrency=1, max_concurrency=1)
    assert desk.load("a-1") == 3
    assert all(desk.conv(f"c-{i}").agent_id == "a-1" for i in range(3))
    desk.engine.close_conversation("c-0", "resolved")
    desk.customer("c-9")
    assert desk.conv("c-9").state is State.QUEUED  # still above the new limits


def test_routing_runs_when_an_agent_becomes_available() -> None:
    desk = Desk()
    desk.agent("a-1", status="away")
    desk.customer("c-1")
    desk.agent("a-1", status="available")
    assert desk.conv("c-1").agent_id == "a-1"


def test_routing_runs_when_an_agent_raises_its_limits() -> None:
    desk = Desk()
    desk.agent("a-1", preferred_concurrency=1, max_concurrency=2)
    desk.customer("c-1")
    desk.customer("c-2")
    desk.agent("a-1", preferred_concurrency=2)
    assert desk.conv("c-2").agent_id == "a-1"


def test_routing_runs_when_a_slot_frees() -> None:
    desk = Desk()
    desk.agent("a-1", preferred_concurrency=1, max_concurrency=1)
    desk.customer("c-1")
    desk.customer("c-2")
    desk.reply("c-1", "closing")
    assert desk.conv("c-2").agent_id == "a-1"


def test_take_more_work_picks_the_best_queued_conversation_up_to_max() -> None:
    desk = Desk()
    desk.agent("a-1", preferred_concurrency=1, max_concurrency=2)
    desk.customer("c-1")
    desk.customer("c-2")
    desk.customer("c-3")
    picked = desk.engine.take_more_work("a-1")
    assert picked is not None and picked.id == "c-2"
    assert desk.engine.take_more_work("a-1") is None  # at the maximum


def test_worklist_lists_awaiting_agent_by_priority_then_awaiting_customer() -> None:
    desk = Desk()
    desk.agent("a-1", preferred_concurrency=4, max_concurrency=4)
    desk.customer("c-1")
    desk.reply("c-1")
    desk.wait(seconds=5)
    desk.customer("c-2")
    desk.wait(seconds=5)
    desk.customer("c-3", "urgent")
    worklist = desk.engine.worklist("a-1")
    assert [c.id for c in worklist.awaiting_agent] == ["c-3", "c-2"]
    assert [c.id for c in worklist.awaiting_customer] == ["c-1"]
    assert all(c.awaiting is Awaiting.AGENT for c in worklist.awaiting_agent)


def test_pace_factor_scales_the_target() -> None:
    desk = Desk(RoutingSettings(defaults=ChannelSettings(pace_factor=2.0)))
    desk.agent("a-1")
    assert desk.customer("c-1").conversation.target_seconds == 240  # 2 x default pace


def test_defaults_are_those_of_the_spec() -> None:
    d = RoutingSettings().defaults
    assert (d.inactivity_timeout, d.auto_close_after, d.reopen_window) == (
        timedelta(minutes=30),
        timedelta(hours=24),
        timedelta(hours=24),
    )
    assert (d.response_overdue_after, d.requeue_overdue, d.hold_grace) == (
        timedelta(minutes=10),
        False,
        timedelta(minutes=5),
    )
    assert (d.pace_alpha, d.default_pace, d.pace_factor) == (0.5, timedelta(minutes=2), 1.0)
    assert (d.target_min, d.target_max, d.escalation_factor) == (
        timedelta(seconds=30),
        timedelta(minutes=15),
        0.25,
    )
