"""What a message's action does in each situation (docs/concepts.md#what-a-message-does): a
transition table as data.

The table is keyed by (direction, situation, action) and covers every combination, so
a misconfigured rule (say, an inbound `hold`) still has a defined, harmless effect.
`tests/engine/test_transitions.py` walks every cell through the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tidal.engine.core.intents import DIRECTIONS, Direction
from tidal.engine.core.model import Action, Awaiting, Conversation, State
from tidal.engine.core.settings import ChannelSettings


class Situation(StrEnum):
    """A conversation's state as far as a message's effect is concerned."""

    NEW = "new"
    QUEUED = "queued"
    AWAITING_AGENT = "assigned_awaiting_agent"
    AWAITING_CUSTOMER = "assigned_awaiting_customer"
    INACTIVE = "inactive"
    CLOSED_RECENTLY = "closed_within_reopen_window"
    CLOSED_LONG_AGO = "closed_after_reopen_window"


class Effect(StrEnum):
    RECORD = "record"  # message recorded; state unchanged
    OPEN_INACTIVE = "open_inactive"  # new conversation, created inactive
    OPEN_CLOSED = "open_closed"  # new conversation, created closed
    QUEUE = "queue"  # awaiting the agent, queued, then routed like new work
    AWAIT_AGENT = "await_agent"  # awaiting the agent; earlier respond_by kept
    REACTIVATE = "reactivate"  # awaiting the agent, sticky routing to the last agent
    CLOSE = "close"
    INACTIVATE = "inactivate"
    AWAIT_CUSTOMER = "await_customer"
    HOLD = "hold"


@dataclass(frozen=True, slots=True)
class Transition:
    effect: Effect
    #: the response target is cut by `escalation_factor` (action `escalate`)
    urgent: bool = False
    #: an agent's message first assigns a queued conversation to itself (manual pick-up)
    pickup: bool = False


_R = Transition(Effect.RECORD)
_A = Action

_INBOUND: dict[Situation, dict[Action, Transition]] = {
    Situation.NEW: {
        _A.ACTIVATE: Transition(Effect.QUEUE),
        _A.ESCALATE: Transition(Effect.QUEUE, urgent=True),
        _A.IGNORE: Transition(Effect.OPEN_INACTIVE),
        _A.CLOSE: Transition(Effect.OPEN_CLOSED),
        _A.INACTIVATE: Transition(Effect.OPEN_INACTIVE),
        _A.AWAIT_CUSTOMER: Transition(Effect.OPEN_INACTIVE),
        _A.HOLD: Transition(Effect.OPEN_INACTIVE),
    },
    Situation.QUEUED: {
        _A.ACTIVATE: Transition(Effect.AWAIT_AGENT),
        _A.ESCALATE: Transition(Effect.AWAIT_AGENT, urgent=True),
        _A.IGNORE: _R,
        _A.CLOSE: Transition(Effect.CLOSE),
        _A.INACTIVATE: Transition(Effect.INACTIVATE),
        _A.AWAIT_CUSTOMER: _R,
        _A.HOLD: _R,
    },
    Situation.AWAITING_AGENT: {
        _A.ACTIVATE: Transition(Effect.AWAIT_AGENT),
        _A.ESCALATE: Transition(Effect.AWAIT_AGENT, urgent=True),
        _A.IGNORE: _R,
        _A.CLOSE: Transition(Effect.CLOSE),
        _A.INACTIVATE: Transition(Effect.INACTIVATE),
        _A.AWAIT_CUSTOMER: _R,
        _A.HOLD: _R,
    },
    Situation.AWAITING_CUSTOMER: {
        _A.ACTIVATE: Transition(Effect.AWAIT_AGENT),
        _A.ESCALATE: Transition(Effect.AWAIT_AGENT, urgent=True),
        _A.IGNORE: _R,
        _A.CLOSE: Transition(Effect.CLOSE),
        _A.INACTIVATE: Transition(Effect.INACTIVATE),
        _A.AWAIT_CUSTOMER: _R,
        _A.HOLD: _R,
    },
    Situation.INACTIVE: {
        _A.ACTIVATE: Transition(Effect.REACTIVATE),
        _A.ESCALATE: Transition(Effect.REACTIVATE, urgent=True),
        _A.IGNORE: _R,
        _A.CLOSE: Transition(Effect.CLOSE),
        _A.INACTIVATE: _R,
        _A.AWAIT_CUSTOMER: _R,
        _A.HOLD: _R,
    },
    Situation.CLOSED_RECENTLY: {
        _A.ACTIVATE: Transition(Effect.REACTIVATE),
        _A.ESCALATE: Transition(Effect.REACTIVATE, urgent=True),
        _A.IGNORE: _R,
        _A.CLOSE: _R,
        _A.INACTIVATE: _R,
        _A.AWAIT_CUSTOMER: _R,
        _A.HOLD: _R,
    },
    Situation.CLOSED_LONG_AGO: {
        _A.ACTIVATE: Transition(Effect.QUEUE),
        _A.ESCALATE: Transition(Effect.QUEUE, urgent=True),
        _A.IGNORE: _R,
        _A.CLOSE: _R,
        _A.INACTIVATE: _R,
        _A.AWAIT_CUSTOMER: _R,
        _A.HOLD: _R,
    },
}

_ASSIGNED_OUTBOUND: dict[Action, Transition] = {
    _A.ACTIVATE: Transition(Effect.AWAIT_AGENT),
    _A.ESCALATE: Transition(Effect.AWAIT_AGENT, urgent=True),
    _A.IGNORE: _R,
    _A.CLOSE: Transition(Effect.CLOSE),
    _A.INACTIVATE: Transition(Effect.INACTIVATE),
    _A.AWAIT_CUSTOMER: Transition(Effect.AWAIT_CUSTOMER),
    _A.HOLD: Transition(Effect.HOLD),
}

#: An agent's message to a conversation nobody holds: picks it up, then acts.
_PICKUP_OUTBOUND: dict[Action, Transition] = {
    _A.ACTIVATE: Transition(Effect.AWAIT_AGENT, pickup=True),
    _A.ESCALATE: Transition(Effect.AWAIT_AGENT, urgent=True, pickup=True),
    _A.IGNORE: _R,
    _A.CLOSE: Transition(Effect.CLOSE),
    _A.INACTIVATE: Transition(Effect.INACTIVATE),
    _A.AWAIT_CUSTOMER: Transition(Effect.AWAIT_CUSTOMER, pickup=True),
    _A.HOLD: Transition(Effect.HOLD, pickup=True),
}

#: The agent left a reply on a paused conversation: it stays paused until the customer
#: writes (or the agent closes it). A closed conversation stays closed.
_PAUSED_OUTBOUND: dict[Action, Transition] = {action: _R for action in Action} | {
    _A.CLOSE: Transition(Effect.CLOSE)
}
_CLOSED_OUTBOUND: dict[Action, Transition] = {action: _R for action in Action}

_OUTBOUND: dict[Situation, dict[Action, Transition]] = {
    Situation.NEW: {
        **_PICKUP_OUTBOUND,
        _A.IGNORE: Transition(Effect.OPEN_INACTIVE),
        _A.CLOSE: Transition(Effect.OPEN_CLOSED),
        _A.INACTIVATE: Transition(Effect.OPEN_INACTIVE),
    },
    Situation.QUEUED: _PICKUP_OUTBOUND,
    Situation.AWAITING_AGENT: _ASSIGNED_OUTBOUND,
    Situation.AWAITING_CUSTOMER: _ASSIGNED_OUTBOUND,
    Situation.INACTIVE: _PAUSED_OUTBOUND,
    Situation.CLOSED_RECENTLY: _CLOSED_OUTBOUND,
    Situation.CLOSED_LONG_AGO: _CLOSED_OUTBOUND,
}

_BY_DIRECTION: dict[Direction, dict[Situation, dict[Action, Transition]]] = {
    "inbound": _INBOUND,
    "outbound": _OUTBOUND,
}
TABLE: dict[tuple[Direction, Situation, Action], Transition] = {
    (direction, situation, action): table[situation][action]
    for direction, table in _BY_DIRECTION.items()
    for situation in Situation
    for action in Action
}
assert len(TABLE) == len(DIRECTIONS) * len(Situation) * len(Action)


def transition(direction: Direction, situation: Situation, action: Action) -> Transition:
    return TABLE[(direction, situation, action)]


def situation_of(
    conversation: Conversation | None, now: datetime, settings: ChannelSettings
) -> Situation:
    if conversation is None:
        return Situation.NEW
    state = conversation.state
    if state is State.QUEUED:
        return Situation.QUEUED
    if state is State.ASSIGNED:
        if conversation.awaiting is Awaiting.CUSTOMER:
            return Situation.AWAITING_CUSTOMER
        return Situation.AWAITING_AGENT
    if state is State.INACTIVE:
        return Situation.INACTIVE
    closed_at = conversation.closed_at or conversation.opened_at
    if now - closed_at < settings.reopen_window:
        return Situation.CLOSED_RECENTLY
    return Situation.CLOSED_LONG_AGO
