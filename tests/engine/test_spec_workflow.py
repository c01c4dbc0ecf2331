"""docs/concepts.md#what-a-message-does, docs/concepts.md#timers, docs/rules.md#workflow-rules as
named examples: what messages and timers do."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.engine.harness import Desk, at
from tidal.engine.core.model import Action, Awaiting, EventKind, State


def served(desk: Desk, conversation_id: str = "c-1", agent_id: str = "a-1") -> None:
    """A conversation assigned to `agent_id`, now awaiting the customer."""
    desk.customer(conversation_id)
    assert desk.conv(conversation_id).agent_id == agent_id
    desk.reply(conversation_id)


def test_first_customer_message_queues_and_routes_the_conversation() -> None:
    desk = Desk()
    desk.agent("a-1")
    outcome = desk.customer("c-1", "other")
    assert outcome.decision.action == "activate"
    assert outcome.decision.rule_id == "activate-on-anything-else"
    assert outcome.routing.reason == "least_loaded"
    assert outcome.conversation.state is State.ASSIGNED
    assert outcome.conversation.awaiting is Awaiting.AGENT
    assert outcome.conversation.respond_by == at("10:02")  # default pace 2 min


def test_new_conversation_without_agents_is_queued() -> None:
    desk = Desk()
    outcome = desk.customer("c-1")
    assert outcome.routing.reason == "queued"
    assert outcome.conversation.state is State.QUEUED
    assert desk.queue_ids() == ["c-1"]


def test_new_conversation_whose_first_message_is_ignored_is_created_inactive() -> None:
    desk = Desk()
    desk.agent("a-1")
    outcome = desk.customer("c-1", "gratitude")
    assert outcome.decision.action == "ignore"
    assert outcome.conversation.state is State.INACTIVE
    assert desk.load("a-1") == 0


def test_no_after_offer_of_more_help_closes() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.reply("c-1", "offer_more_help")
    outcome = desk.customer("c-1", "deny")
    assert outcome.decision.rule_id == "close-when-no-more-help-needed"
    assert outcome.decision.reason == "customer_declined_more_help"
    assert outcome.conversation.state is State.CLOSED
    assert outcome.conversation.close_reason == "customer_declined_more_help"
    assert outcome.routing.reason == "closed"
    assert outcome.routing.agent_id is None
    assert outcome.conversation.last_agent_id == "a-1"
    assert desk.load("a-1") == 0


def test_thanks_after_offer_of_more_help_closes() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.reply("c-1", "offer_more_help")
    assert desk.customer("c-1", "gratitude").conversation.state is State.CLOSED


def test_no_without_an_offer_of_more_help_does_not_close() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.reply("c-1", "other")
    outcome = desk.customer("c-1", "deny")
    assert outcome.decision.action == "activate"
    assert outcome.conversation.state is State.ASSIGNED


def test_substantive_message_after_the_offer_cancels_the_after_condition() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.reply("c-1", "offer_more_help")
    desk.customer("c-1", "other")  # "yes, one more thing: ..."
    assert desk.customer("c-1", "deny").conversation.state is State.ASSIGNED


def test_ignored_message_keeps_the_after_condition() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.reply("c-1", "offer_more_help")
    desk.customer("c-1", "acknowledgement")  # "ok" is ignored
    assert desk.customer("c-1", "deny").conversation.state is State.CLOSED


def test_opt_out_closes_and_marks_the_customer_opted_out() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    outcome = desk.customer("c-1", "opt_out")
    assert outcome.conversation.state is State.CLOSED
    assert outcome.conversation.close_reason == "opted_out"
    assert outcome.conversation.opted_out


def test_goodbye_closes() -> None:
    desk = Desk()
    desk.agent("a-1")
    served(desk)
    assert desk.customer("c-1", "goodbye").conversation.close_reason == "customer_goodbye"


def test_away_pauses_now_and_frees_the_slot() -> None:
    desk = Desk()
    desk.agent("a-1")
    served(desk)
    outcome = desk.customer("c-1", "away")
    assert outcome.conversation.state is State.INACTIVE
    assert outcome.conversation.inactive_reason == "customer_away"
    assert outcome.conversation.last_agent_id == "a-1"
    assert desk.load("a-1") == 0


def test_thanks_does_not_wake_an_inactive_conversation() -> None:
    desk = Desk()
    desk.agent("a-1")
    served(desk)
    desk.customer("c-1", "away")
    for intent in ("gratitude", "acknowledgement"):
        outcome = desk.customer("c-1", intent)
        assert outcome.conversation.state is State.INACTIVE
        assert outcome.routing.reason == "unchanged"
    assert desk.queue_ids() == []


def test_ok_to_what_the_agent_said_is_the_agents_turn_again() -> None:
    desk = Desk()
    desk.agent("a-1")
    served(desk)  # the agent answered ("I can offer a refund or a replacement")
    outcome = desk.customer("c-1", "acknowledgement")  # "sounds good"
    assert outcome.decision.action is Action.ACTIVATE
    assert outcome.decision.rule_id == "activate-when-customer-acknowledges-agent"
    assert outcome.conversation.awaiting is Awaiting.AGENT
    assert outcome.conversation.agent_id == "a-1"


def test_thanks_to_what_the_agent_said_stays_ignored() -> None:
    desk = Desk()
    desk.agent("a-1")
    served(desk)
    outcome = desk.customer("c-1", "gratitude")
    assert outcome.decision.action is Action.IGNORE
    assert outcome.conversation.awaiting is Awaiting.CUSTOMER


@pytest.mark.parametrize("agent_said", ["hold", "offer_more_help"])
def test_ok_to_a_hold_or_an_offer_of_more_help_stays_ignored(agent_said: str) -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.reply("c-1", agent_said)
    assert desk.customer("c-1", "acknowledgement").decision.action is Action.IGNORE


def test_thanks_with_a_new_request_wakes_the_conversation() -> None:
    desk = Desk()
    desk.agent("a-1")
    served(desk)
    desk.customer("c-1", "away")
    outcome = desk.customer("c-1", "other")  # "thanks! also, my card is blocked"
    assert outcome.conversation.state is State.ASSIGNED
    assert outcome.routing.reason == "sticky"
    assert outcome.routing.agent_id == "a-1"


def test_agent_closing_message_closes() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    outcome = desk.reply("c-1", "closing")
    assert outcome.conversation.close_reason == "agent_closed"


def test_agent_reply_hands_the_turn_to_the_customer() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    outcome = desk.reply("c-1", "other")
    assert outcome.conversation.awaiting is Awaiting.CUSTOMER
    assert outcome.conversation.respond_by is None
    # the agent's desk learns the conversation moved to "waiting on the customer"
    handed_over = [e for e in outcome.events if e.kind is EventKind.PRIORITY_CHANGED]
    assert [(e.agent_id, e.reason) for e in handed_over] == [("a-1", "awaiting_customer")]


def test_escalation_that_keeps_the_deadline_still_tells_the_desk() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.wait(seconds=100)  # an escalated target from now would end after 10:02
    outcome = desk.customer("c-1", "urgent")
    assert outcome.conversation.respond_by == at("10:02:00")
    changed = [e for e in outcome.events if e.kind is EventKind.PRIORITY_CHANGED]
    assert [(e.reason, e.data["boosts"]) for e in changed] == [("escalated", ["escalated"])]


def test_hold_keeps_the_turn_with_the_agent_for_hold_grace() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.wait(seconds=20)
    outcome = desk.reply("c-1", "hold")
    assert outcome.conversation.awaiting is Awaiting.AGENT
    assert outcome.conversation.respond_by == at("10:05:20")
    assert desk.engine.priority("c-1").boosts == ("hold",)


def test_writing_again_never_pushes_respond_by_later() -> None:
    desk = Desk()
    desk.agent("a-1")
    first = desk.customer("c-1").conversation.respond_by
    desk.wait(seconds=90)
    assert desk.customer("c-1").conversation.respond_by == first


def test_escalation_cuts_the_target_and_may_only_move_respond_by_earlier() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")  # respond_by 10:02 (target 2 min)
    desk.wait(seconds=10)
    outcome = desk.customer("c-1", "urgent")
    # 120 s x 0.25 = 30 s, which is also target_min
    assert outcome.conversation.respond_by == at("10:00:40")
    assert "escalated" in desk.engine.priority("c-1").boosts
    desk.wait(seconds=5)
    assert desk.customer("c-1", "urgent").conversation.respond_by == at("10:00:40")


def test_outbound_message_on_a_queued_conversation_is_a_manual_pickup() -> None:
    desk = Desk()
    desk.agent("a-1", status="away")
    desk.customer("c-1")
    outcome = desk.reply("c-1", "greeting", agent_id="a-1")
    assert outcome.routing.reason == "manual"
    assert outcome.conversation.state is State.ASSIGNED
    assert outcome.conversation.agent_id == "a-1"


def test_manual_pickup_may_go_above_preferred_up_to_the_maximum() -> None:
    desk = Desk()
    desk.agent("a-1", preferred_concurrency=1, max_concurrency=2)
    desk.customer("c-1")
    desk.customer("c-2")
    desk.customer("c-3")
    assert desk.queue_ids() == ["c-2", "c-3"]
    assert desk.reply("c-2", agent_id="a-1").routing.reason == "manual"
    refused = desk.reply("c-3", agent_id="a-1")
    assert refused.routing.reason == "queued"
    assert refused.conversation.state is State.QUEUED
    assert desk.load("a-1") == 2


def test_outbound_message_on_an_inactive_conversation_leaves_it_inactive() -> None:
    desk = Desk()
    desk.agent("a-1")
    served(desk)
    desk.customer("c-1", "away")
    outcome = desk.reply("c-1", "other", agent_id="a-1")
    assert outcome.conversation.state is State.INACTIVE
    assert outcome.conversation.last_outbound_intent == "other"
    assert desk.load("a-1") == 0


def test_inactivity_after_30_minutes_of_customer_silence() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.wait(minutes=1)
    desk.reply("c-1")  # 10:01
    desk.until("10:30:59")
    assert desk.engine.tick() == []
    desk.until("10:31")
    [event] = desk.engine.tick()
    assert event.kind is EventKind.INACTIVATED and event.reason == "customer_silent"
    assert event.at == at("10:31")
    conversation = desk.conv("c-1")
    assert conversation.state is State.INACTIVE
    assert conversation.last_agent_id == "a-1"
    assert desk.load("a-1") == 0


def test_inactivity_counts_from_the_agents_latest_message() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.reply("c-1")
    desk.until("10:20")
    desk.reply("c-1")
    desk.until("10:49:59")
    desk.engine.tick()
    assert desk.conv("c-1").state is State.ASSIGNED
    desk.until("10:50")
    desk.engine.tick()
    assert desk.conv("c-1").state is State.INACTIVE


def test_ignored_messages_do_not_reset_the_inactivity_timer() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.reply("c-1")
    desk.until("10:20")
    desk.customer("c-1", "gratitude")
    desk.until("10:30")
    desk.engine.tick()
    assert desk.conv("c-1").state is State.INACTIVE


def test_queued_conversation_never_goes_inactive_by_timer() -> None:
    desk = Desk()
    desk.customer("c-1")
    desk.wait(hours=30)
    desk.engine.tick()
    assert desk.conv("c-1").state is State.QUEUED


def test_inactive_conversation_closes_after_24_hours() -> None:
    desk = Desk()
    desk.agent("a-1")
    served(desk)
    desk.customer("c-1", "away")  # 10:00
    desk.until("10:00")
    desk.wait(hours=23, minutes=59)
    desk.engine.tick()
    assert desk.conv("c-1").state is State.INACTIVE
    desk.wait(minutes=1)
    desk.engine.tick()
    closed = desk.conv("c-1")
    assert closed.state is State.CLOSED
    assert closed.close_reason == "inactivity"
    assert closed.closed_at == at("10:00") + timedelta(hours=24)


def test_silent_customer_goes_inactive_then_closes_in_one_clock_jump() -> None:
    desk = Desk()
    desk.agent("a-1")
    served(desk)
    desk.wait(hours=48)
    events = desk.engine.tick()
    assert [(e.kind, e.at) for e in events] == [
        (EventKind.INACTIVATED, at("10:30")),
        (EventKind.CLOSED, at("10:30") + timedelta(hours=24)),
    ]


def test_reopening_within_the_window_is_sticky() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.agent("a-2")
    desk.customer("c-1")
    desk.reply("c-1", "closing")
    desk.agent("a-1", status="busy")  # busy: no new work, but returning work still comes
    desk.wait(hours=23)
    outcome = desk.customer("c-1")
    assert outcome.conversation.state is State.ASSIGNED
    assert outcome.routing.reason == "sticky"
    assert outcome.routing.agent_id == "a-1"
    assert EventKind.REOPENED in [e.kind for e in outcome.events]


def test_reopening_after_the_window_routes_like_a_new_conversation() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.reply("c-1", "closing")
    desk.agent("a-1", status="busy")  # would take it back if it were sticky
    desk.agent("a-2")
    desk.wait(hours=24)
    outcome = desk.customer("c-1")
    assert outcome.routing.reason == "least_loaded"
    assert outcome.routing.agent_id == "a-2"


def test_response_overdue_is_reported_once_after_respond_by_plus_grace() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")  # respond_by 10:02
    desk.until("10:11:59")
    assert desk.engine.tick() == []
    desk.until("10:12")
    [event] = desk.engine.tick()
    assert (event.kind, event.agent_id) == (EventKind.RESPONSE_OVERDUE, "a-1")
    desk.wait(hours=1)
    assert desk.engine.tick() == []
    assert desk.conv("c-1").agent_id == "a-1"  # without requeue_overdue it stays


def test_requeue_overdue_requeues_and_blocks_new_work_until_the_agent_replies() -> None:
    desk = Desk(requeue_overdue=True)
    desk.agent("a-1")
    desk.customer("c-1")
    desk.customer("c-2")
    desk.reply("c-2")  # a-1 answered c-2 but not c-1
    desk.until("10:12")
    kinds = [e.kind for e in desk.engine.tick()]
    assert kinds[:2] == [EventKind.RESPONSE_OVERDUE, EventKind.QUEUED]
    assert desk.conv("c-1").state is State.QUEUED
    assert desk.conv("c-1").respond_by == at("10:02")  # keeps its place at the front
    blocked = desk.engine.agent("a-1")
    assert blocked is not None and blocked.blocked_for_overdue
    desk.customer("c-3")
    assert desk.conv("c-3").state is State.QUEUED  # a-1 gets no new work
    desk.reply("c-2")  # the agent replies somewhere: unblocked, fills from the queue
    assert desk.conv("c-1").agent_id == "a-1"
    assert desk.conv("c-3").agent_id == "a-1"


def test_channel_override_changes_the_inactivity_timeout() -> None:
    from tidal.engine.core.settings import RoutingSettings

    desk = Desk(RoutingSettings(channels={"whatsapp": {"inactivity_timeout": timedelta(hours=1)}}))
    desk.agent("a-1")
    desk.customer("c-sms", channel="sms")
    desk.customer("c-wa", channel="whatsapp")
    desk.reply("c-sms")
    desk.reply("c-wa")
    desk.wait(minutes=45)
    desk.engine.tick()
    assert desk.conv("c-sms").state is State.INACTIVE
    assert desk.conv("c-wa").state is State.ASSIGNED


def test_duplicate_message_id_returns_the_first_outcome_and_changes_nothing() -> None:
    desk = Desk()
    desk.agent("a-1")
    first = desk.customer("c-1", message_id="m-1")
    desk.reply("c-1", "offer_more_help")
    again = desk.customer("c-1", "deny", message_id="m-1")
    assert again.duplicate and not first.duplicate
    assert again.decision == first.decision
    assert desk.conv("c-1").state is State.ASSIGNED


def test_new_settings_move_pending_timers_and_save_only_what_changed() -> None:
    from tidal.engine.core.settings import RoutingSettings

    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1", channel="sms")
    desk.reply("c-1")  # inactive at 10:30 under the defaults
    desk.customer("c-2", channel="web")
    desk.engine.drain_changes()
    desk.engine.replace_rules(
        RoutingSettings(channels={"sms": {"inactivity_timeout": timedelta(minutes=5)}}),
        desk.engine.workflow,
    )
    assert set(desk.engine.drain_changes().conversations) == {"c-1"}
    desk.until("10:05")
    assert [e.conversation_id for e in desk.engine.tick()] == ["c-1"]
