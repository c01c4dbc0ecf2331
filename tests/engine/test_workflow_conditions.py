"""Workflow rule conditions (docs/rules.md#workflow-rules) and the engine's errors and persistence
port."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.engine.harness import Desk, at
from tidal.engine.core.engine import Engine
from tidal.engine.core.errors import (
    ConversationClosed,
    EngineError,
    InvalidAgentSettings,
    InvalidMessage,
    OutboundWithoutAgent,
    UnknownAgent,
    UnknownConversation,
)
from tidal.engine.core.intents import Classification
from tidal.engine.core.model import Action, EventKind, IncomingMessage, State
from tidal.engine.core.workflow import (
    DEFAULT_WORKFLOW,
    Conditions,
    WorkflowRule,
    WorkflowRules,
    shadowed_rules,
)


def with_first(rule: WorkflowRule) -> WorkflowRules:
    return WorkflowRules((rule, *DEFAULT_WORKFLOW.rules))


def test_min_confidence_lets_unsure_classifications_fall_through() -> None:
    rule = WorkflowRule(
        "close-only-when-sure",
        Conditions(direction="inbound", intents=frozenset({"goodbye"}), min_confidence=0.9),
        Action.CLOSE,
        "sure_goodbye",
    )
    anything_else = next(r for r in DEFAULT_WORKFLOW.rules if r.id == "activate-on-anything-else")
    desk = Desk(workflow=WorkflowRules((rule, anything_else)))
    desk.agent("a-1")
    desk.customer("c-1")
    unsure = desk.customer("c-1", "goodbye", confidence=0.6)
    assert unsure.decision.rule_id == "activate-on-anything-else"
    sure = desk.customer("c-1", "goodbye", confidence=0.95)
    assert (sure.decision.rule_id, sure.conversation.state) == (
        "close-only-when-sure",
        State.CLOSED,
    )


def test_channel_condition_applies_only_to_that_channel() -> None:
    rule = WorkflowRule(
        "whatsapp-thanks-closes",
        Conditions(
            direction="inbound", intents=frozenset({"gratitude"}), channels=frozenset({"whatsapp"})
        ),
        Action.CLOSE,
        "thanked",
    )
    desk = Desk(workflow=with_first(rule))
    desk.agent("a-1", preferred_concurrency=2)
    desk.customer("wa", channel="whatsapp")
    desk.customer("sms", channel="sms")
    assert desk.customer("wa", "gratitude").conversation.state is State.CLOSED
    assert desk.customer("sms", "gratitude").conversation.state is State.ASSIGNED


def test_state_and_awaiting_conditions() -> None:
    greet_new = WorkflowRule(
        "greeting-opens-paused",
        Conditions(direction="inbound", intents=frozenset({"greeting"}), states=frozenset({"new"})),
        Action.IGNORE,
    )
    nudge = WorkflowRule(
        "affirm-while-agent-owes-is-ignored",
        Conditions(
            direction="inbound", intents=frozenset({"affirm"}), awaiting=frozenset({"agent"})
        ),
        Action.IGNORE,
    )
    desk = Desk(workflow=WorkflowRules((greet_new, nudge, *DEFAULT_WORKFLOW.rules)))
    desk.agent("a-1")
    assert desk.customer("c-1", "greeting").conversation.state is State.INACTIVE
    assert desk.customer("c-1", "greeting").conversation.state is State.ASSIGNED
    assert desk.customer("c-1", "affirm").decision.rule_id == "affirm-while-agent-owes-is-ignored"
    desk.reply("c-1")
    assert desk.customer("c-1", "affirm").decision.action is Action.ACTIVATE


def test_no_matching_rule_falls_back_to_activate_and_await_customer() -> None:
    desk = Desk(workflow=WorkflowRules(()))
    desk.agent("a-1")
    inbound = desk.customer("c-1", "gratitude")
    assert (inbound.decision.action, inbound.decision.rule_id) == (Action.ACTIVATE, None)
    outbound = desk.reply("c-1", "closing")
    assert outbound.decision.action is Action.AWAIT_CUSTOMER


def test_shadowing_is_a_superset_of_every_condition() -> None:
    rules = [
        WorkflowRule(
            "any-goodbye", Conditions(intents=frozenset({"goodbye", "deny"})), Action.CLOSE
        ),
        WorkflowRule(
            "inbound-goodbye",
            Conditions(direction="inbound", intents=frozenset({"goodbye"})),
            Action.CLOSE,
        ),
        WorkflowRule(
            "goodbye-on-sms",
            Conditions(intents=frozenset({"goodbye"}), channels=frozenset({"sms"})),
            Action.IGNORE,
        ),
        WorkflowRule("greeting", Conditions(intents=frozenset({"greeting"})), Action.IGNORE),
    ]
    assert shadowed_rules(rules) == [(1, 0), (2, 0)]
    assert shadowed_rules(DEFAULT_WORKFLOW.rules) == []


# -- errors -------------------------------------------------------------------------------


def test_errors_carry_stable_codes_and_change_nothing() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    before = desk.engine.conversations()
    cases: list[tuple[type[EngineError], str, object]] = [
        (
            OutboundWithoutAgent,
            "outbound_without_agent",
            lambda: desk.say("outbound", "c-1", "other"),
        ),
        (
            UnknownAgent,
            "unknown_agent",
            lambda: desk.say("outbound", "c-1", "other", agent_id="nobody"),
        ),
        (
            InvalidMessage,
            "invalid_message",
            lambda: desk.engine.handle(
                IncomingMessage("", "c-1", "inbound", "x"), Classification("other", 1.0, "rule")
            ),
        ),
        (
            UnknownConversation,
            "unknown_conversation",
            lambda: desk.engine.close_conversation("nope", "resolved"),
        ),
        (
            InvalidAgentSettings,
            "invalid_agent_settings",
            lambda: desk.engine.upsert_agent("a-1", preferred_concurrency=6),
        ),
        (
            InvalidAgentSettings,
            "invalid_agent_settings",
            lambda: desk.engine.upsert_agent("a-1", status="sleeping"),
        ),
    ]
    for error, code, call in cases:
        with pytest.raises(error) as caught:
            call()  # type: ignore[operator]
        assert caught.value.code == code
        assert isinstance(caught.value, EngineError)
    assert desk.engine.conversations() == before


def test_pausing_a_closed_conversation_is_refused() -> None:
    desk = Desk()
    desk.customer("c-1", "opt_out")
    with pytest.raises(ConversationClosed) as caught:
        desk.engine.inactivate_conversation("c-1")
    assert caught.value.code == "conversation_closed"


# -- persistence -----------------------------------------------------------------------------


def test_a_new_engine_on_the_same_store_restores_everything() -> None:
    desk = Desk()
    desk.agent("a-1", preferred_concurrency=1, max_concurrency=2)
    desk.customer("c-1")
    desk.reply("c-1")
    desk.customer("c-2")
    desk.customer("c-3", "away")
    restarted = Engine(desk.engine.settings, desk.engine.workflow, desk.clock, desk.store)
    assert restarted.conversations() == desk.engine.conversations()
    assert restarted.agents() == desk.engine.agents()
    assert [c.id for c in restarted.queue()] == ["c-2"]
    assert restarted.next_deadline() == desk.engine.next_deadline()
    # the duplicate check survives the restart too
    again = restarted.handle(
        IncomingMessage("m-1", "c-1", "inbound", "x"), Classification("other", 1.0, "rule")
    )
    assert again.duplicate


def test_timers_due_during_downtime_fire_at_their_deadlines_after_a_restart() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    desk.reply("c-1")  # 10:00:00: the customer's turn; inactive at 10:30
    desk.engine.drain_changes()
    desk.wait(hours=30)  # down for a day and more: inactive at 10:30, closed 24 h later
    restarted = Engine(desk.engine.settings, desk.engine.workflow, desk.clock, desk.store)
    fired = [(e.kind, e.at) for e in restarted.drain_changes().events if e.conversation_id]
    assert fired == [
        (EventKind.INACTIVATED, at("10:30")),
        (EventKind.CLOSED, at("10:30") + timedelta(hours=24)),
    ]
    assert restarted.conversation("c-1").closed_at == at("10:30") + timedelta(hours=24)


def test_drain_changes_hands_over_each_change_once() -> None:
    desk = Desk()
    desk.agent("a-1")
    desk.customer("c-1")
    changes = desk.engine.drain_changes()
    assert set(changes.conversations) == {"c-1"} and set(changes.agents) == {"a-1"}
    assert [m.message_id for m in changes.messages] == ["m-1"]
    assert changes.conversations["c-1"] == desk.conv("c-1")
    assert desk.engine.drain_changes().is_empty()
