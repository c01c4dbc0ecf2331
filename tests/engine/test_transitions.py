"""Every (direction, situation, action) cell of the transition table, through the engine.

Each case builds a conversation in the situation with the shipped workflow, then swaps
in a workflow whose only rule gives the action under test, and sends one message.
"""

from __future__ import annotations

import pytest

from tests.engine.harness import Desk
from tests.engine.invariants import check_invariants
from tidal.engine.core.intents import Direction
from tidal.engine.core.model import Action, Awaiting, State
from tidal.engine.core.transitions import TABLE, Situation
from tidal.engine.core.workflow import Conditions, WorkflowRule, WorkflowRules

S = Situation
A = Action

# (state after, awaiting after, routing reason); Q queued, AA assigned awaiting the agent,
# AC assigned awaiting the customer, IN inactive, C closed
AA, AC, Q, IN, C = "AA", "AC", "Q", "IN", "C"

INBOUND: dict[Situation, dict[Action, tuple[str, str]]] = {
    S.NEW: {
        A.ACTIVATE: (AA, "least_loaded"),
        A.ESCALATE: (AA, "least_loaded"),
        A.IGNORE: (IN, "unchanged"),
        A.CLOSE: (C, "closed"),
        A.INACTIVATE: (IN, "unchanged"),
        A.AWAIT_CUSTOMER: (IN, "unchanged"),
        A.HOLD: (IN, "unchanged"),
    },
    S.QUEUED: {
        A.ACTIVATE: (Q, "queued"),
        A.ESCALATE: (Q, "queued"),
        A.IGNORE: (Q, "queued"),
        A.CLOSE: (C, "closed"),
        A.INACTIVATE: (IN, "unchanged"),
        A.AWAIT_CUSTOMER: (Q, "queued"),
        A.HOLD: (Q, "queued"),
    },
    S.AWAITING_AGENT: {
        A.ACTIVATE: (AA, "unchanged"),
        A.ESCALATE: (AA, "unchanged"),
        A.IGNORE: (AA, "unchanged"),
        A.CLOSE: (C, "closed"),
        A.INACTIVATE: (IN, "unchanged"),
        A.AWAIT_CUSTOMER: (AA, "unchanged"),
        A.HOLD: (AA, "unchanged"),
    },
    S.AWAITING_CUSTOMER: {
        A.ACTIVATE: (AA, "unchanged"),
        A.ESCALATE: (AA, "unchanged"),
        A.IGNORE: (AC, "unchanged"),
        A.CLOSE: (C, "closed"),
        A.INACTIVATE: (IN, "unchanged"),
        A.AWAIT_CUSTOMER: (AC, "unchanged"),
        A.HOLD: (AC, "unchanged"),
    },
    S.INACTIVE: {
        A.ACTIVATE: (AA, "sticky"),
        A.ESCALATE: (AA, "sticky"),
        A.IGNORE: (IN, "unchanged"),
        A.CLOSE: (C, "closed"),
        A.INACTIVATE: (IN, "unchanged"),
        A.AWAIT_CUSTOMER: (IN, "unchanged"),
        A.HOLD: (IN, "unchanged"),
    },
    S.CLOSED_RECENTLY: {
        A.ACTIVATE: (AA, "sticky"),
        A.ESCALATE: (AA, "sticky"),
        **{a: (C, "closed") for a in (A.IGNORE, A.CLOSE, A.INACTIVATE, A.AWAIT_CUSTOMER, A.HOLD)},
    },
    S.CLOSED_LONG_AGO: {
        A.ACTIVATE: (AA, "least_loaded"),
        A.ESCALATE: (AA, "least_loaded"),
        **{a: (C, "closed") for a in (A.IGNORE, A.CLOSE, A.INACTIVATE, A.AWAIT_CUSTOMER, A.HOLD)},
    },
}

_BY_ASSIGNED_AGENT = {
    A.ACTIVATE: (AA, "unchanged"),
    A.ESCALATE: (AA, "unchanged"),
    A.CLOSE: (C, "closed"),
    A.INACTIVATE: (IN, "unchanged"),
    A.AWAIT_CUSTOMER: (AC, "unchanged"),
    A.HOLD: (AA, "unchanged"),
}
OUTBOUND: dict[Situation, dict[Action, tuple[str, str]]] = {
    S.NEW: {
        A.ACTIVATE: (AA, "manual"),
        A.ESCALATE: (AA, "manual"),
        A.IGNORE: (IN, "unchanged"),
        A.CLOSE: (C, "closed"),
        A.INACTIVATE: (IN, "unchanged"),
        A.AWAIT_CUSTOMER: (AC, "manual"),
        A.HOLD: (AA, "manual"),
    },
    S.QUEUED: {
        A.ACTIVATE: (AA, "manual"),
        A.ESCALATE: (AA, "manual"),
        A.IGNORE: (Q, "queued"),
        A.CLOSE: (C, "closed"),
        A.INACTIVATE: (IN, "unchanged"),
        A.AWAIT_CUSTOMER: (AC, "manual"),
        A.HOLD: (AA, "manual"),
    },
    S.AWAITING_AGENT: {**_BY_ASSIGNED_AGENT, A.IGNORE: (AA, "unchanged")},
    S.AWAITING_CUSTOMER: {**_BY_ASSIGNED_AGENT, A.IGNORE: (AC, "unchanged")},
    S.INACTIVE: {**{a: (IN, "unchanged") for a in Action}, A.CLOSE: (C, "closed")},
    S.CLOSED_RECENTLY: {a: (C, "closed") for a in Action},
    S.CLOSED_LONG_AGO: {a: (C, "closed") for a in Action},
}
EXPECTED = {"inbound": INBOUND, "outbound": OUTBOUND}


def arrange(situation: Situation) -> Desk:
    """A desk whose conversation `c-1` is in `situation`; agent a-1 may take it."""
    desk = Desk()
    desk.agent("a-1", preferred_concurrency=3, max_concurrency=5)
    if situation is S.NEW:
        return desk
    if situation is S.QUEUED:
        desk.agent("a-1", status="away")  # away agents still pick up manually
        desk.customer("c-1")
        return desk
    desk.customer("c-1")
    if situation is S.AWAITING_CUSTOMER:
        desk.reply("c-1")
    elif situation is S.INACTIVE:
        desk.customer("c-1", "away")
    elif situation is S.CLOSED_RECENTLY:
        desk.customer("c-1", "goodbye")
        desk.wait(hours=1)
    elif situation is S.CLOSED_LONG_AGO:
        desk.customer("c-1", "goodbye")
        desk.wait(hours=25)
    return desk


def only(action: Action) -> WorkflowRules:
    return WorkflowRules((WorkflowRule("only-" + action.value, Conditions(), action, "test"),))


def describe(state: State, awaiting: Awaiting | None) -> str:
    if state is State.ASSIGNED:
        return AA if awaiting is Awaiting.AGENT else AC
    return {State.QUEUED: Q, State.INACTIVE: IN, State.CLOSED: C}[state]


CASES = [
    (direction, situation, action)
    for direction in ("inbound", "outbound")
    for situation in Situation
    for action in Action
]


def test_the_table_covers_every_direction_situation_and_action() -> None:
    assert set(TABLE) == set(CASES)
    assert len(CASES) == 2 * 7 * 7


@pytest.mark.parametrize(
    ("direction", "situation", "action"),
    CASES,
    ids=[f"{d}-{s.value}-{a.value}" for d, s, a in CASES],
)
def test_transition(direction: Direction, situation: Situation, action: Action) -> None:
    desk = arrange(situation)
    desk.engine.replace_rules(desk.engine.settings, only(action))
    agent_id = "a-1" if direction == "outbound" else None
    outcome = desk.say(direction, "c-1", "other", agent_id=agent_id)
    expected_state, expected_reason = EXPECTED[direction][situation][action]
    after = outcome.conversation
    assert outcome.decision.action is action
    assert (describe(after.state, after.awaiting), outcome.routing.reason) == (
        expected_state,
        expected_reason,
    )
    check_invariants(desk.engine)


def test_outbound_from_an_agent_at_its_maximum_records_and_keeps_the_conversation_queued() -> None:
    desk = Desk()
    desk.agent("a-1", preferred_concurrency=1, max_concurrency=1)
    desk.customer("c-0")
    desk.customer("c-1")
    outcome = desk.reply("c-1", "other", agent_id="a-1")
    assert outcome.conversation.state is State.QUEUED
    assert outcome.routing.reason == "queued"
    assert outcome.conversation.last_outbound_intent == "other"


def test_agent_starting_a_conversation_without_room_leaves_it_inactive_with_itself() -> None:
    desk = Desk()
    desk.agent("a-1", preferred_concurrency=1, max_concurrency=1)
    desk.customer("c-0")
    outcome = desk.say("outbound", "proactive", "other", agent_id="a-1")
    assert outcome.conversation.state is State.INACTIVE
    assert outcome.conversation.last_agent_id == "a-1"


def test_offline_agent_cannot_pick_up_by_writing() -> None:
    desk = Desk()
    desk.agent("a-1", status="offline")
    desk.customer("c-1")
    outcome = desk.reply("c-1", "other", agent_id="a-1")
    assert outcome.conversation.state is State.QUEUED
