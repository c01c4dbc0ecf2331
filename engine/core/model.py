"""Domain records: conversations, agents, messages, decisions and events (docs/concepts.md).

Plain dataclasses, standard library only. The engine mutates conversations and agents
in place; callers get copies (`snapshot()`) so nothing outside can corrupt the indices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from tidal.engine.core.intents import Classification, Direction


class State(StrEnum):
    QUEUED = "queued"
    ASSIGNED = "assigned"
    INACTIVE = "inactive"
    CLOSED = "closed"


class Awaiting(StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"


class AgentStatus(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"
    OFFLINE = "offline"


class Action(StrEnum):
    ACTIVATE = "activate"
    IGNORE = "ignore"
    CLOSE = "close"
    INACTIVATE = "inactivate"
    ESCALATE = "escalate"
    AWAIT_CUSTOMER = "await_customer"
    HOLD = "hold"


RoutingReason = Literal[
    "least_loaded", "sticky", "sticky_unavailable", "queued", "manual", "unchanged", "closed"
]


class EventKind(StrEnum):
    ASSIGNED = "assigned"
    QUEUED = "queued"
    REACTIVATED = "reactivated"
    INACTIVATED = "inactivated"
    CLOSED = "closed"
    REOPENED = "reopened"
    PRIORITY_CHANGED = "priority_changed"
    RESPONSE_OVERDUE = "response_overdue"
    AGENT_STATUS_CHANGED = "agent_status_changed"
    AGENT_UPDATED = "agent_updated"
    MESSAGE_RECORDED = "message_recorded"


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One message as a caller hands it to the engine (already validated at the edge)."""

    message_id: str
    conversation_id: str
    direction: Direction
    text: str
    sent_at: datetime | None = None
    channel: str | None = None
    customer_id: str | None = None
    agent_id: str | None = None
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Priority:
    """Why a conversation waiting on the agent sits where it does
    (docs/concepts.md#adaptive-response-timer)."""

    pace_seconds: float
    target_seconds: float
    boosts: tuple[str, ...]
    respond_by: datetime | None
    awaiting_since: datetime | None


#: how much of a customer's message a conversation keeps to show (`last_inbound_text`)
MESSAGE_PREVIEW_CHARS = 280


@dataclass(slots=True)
class Conversation:
    id: str
    channel: str | None
    customer_id: str | None
    skills: frozenset[str]
    state: State
    opened_at: datetime
    awaiting: Awaiting | None = None
    agent_id: str | None = None
    last_agent_id: str | None = None
    respond_by: datetime | None = None
    pace_seconds: float | None = None
    target_seconds: float | None = None
    boosts: tuple[str, ...] = ()
    awaiting_since: datetime | None = None
    last_inbound_at: datetime | None = None
    last_outbound_at: datetime | None = None
    last_outbound_intent: str | None = None
    #: what the customer last wrote (its start, `MESSAGE_PREVIEW_CHARS`) and its intent,
    #: so a desk can tell conversations apart; ignored messages leave them as they were.
    last_inbound_text: str | None = None
    last_inbound_intent: str | None = None
    #: the last outbound intent, kept only until a substantive inbound message arrives
    #: (the `after` condition of workflow rules).
    pending_outbound_intent: str | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None
    inactive_since: datetime | None = None
    inactive_reason: str | None = None
    opted_out: bool = False
    overdue_notified: bool = False
    #: when the agent handed the turn to the customer; the customer's next message that
    #: is not ignored measures a reply delay for the pace
    #: (docs/concepts.md#adaptive-response-timer), then clears it.
    customer_turn_since: datetime | None = None
    #: pending timer deadlines, derived from the fields above; the engine keeps them current.
    timers: dict[str, datetime] = field(default_factory=dict)
    #: bumped on every change; lets stores write only what changed.
    version: int = 0

    def snapshot(self) -> Conversation:
        """A shallow copy. Written out field by field: `copy.copy` of a slotted
        dataclass goes through `__reduce_ex__` and costs ten times as much, on a path
        taken several times per message. `test_snapshot_copies_every_field` guards it."""
        copied = object.__new__(Conversation)
        copied.id = self.id
        copied.channel = self.channel
        copied.customer_id = self.customer_id
        copied.skills = self.skills
        copied.state = self.state
        copied.opened_at = self.opened_at
        copied.awaiting = self.awaiting
        copied.agent_id = self.agent_id
        copied.last_agent_id = self.last_agent_id
        copied.respond_by = self.respond_by
        copied.pace_seconds = self.pace_seconds
        copied.target_seconds = self.target_seconds
        copied.boosts = self.boosts
        copied.awaiting_since = self.awaiting_since
        copied.last_inbound_at = self.last_inbound_at
        copied.last_inbound_text = self.last_inbound_text
        copied.last_inbound_intent = self.last_inbound_intent
        copied.last_outbound_at = self.last_outbound_at
        copied.last_outbound_intent = self.last_outbound_intent
        copied.pending_outbound_intent = self.pending_outbound_intent
        copied.closed_at = self.closed_at
        copied.close_reason = self.close_reason
        copied.inactive_since = self.inactive_since
        copied.inactive_reason = self.inactive_reason
        copied.opted_out = self.opted_out
        copied.overdue_notified = self.overdue_notified
        copied.customer_turn_since = self.customer_turn_since
        copied.timers = self.timers
        copied.version = self.version
        return copied


@dataclass(slots=True)
class Agent:
    id: str
    status: AgentStatus
    preferred_concurrency: int
    max_concurrency: int
    skills: frozenset[str] = frozenset()
    load: int = 0
    last_assigned_at: datetime | None = None
    #: set while the agent has an overdue reply with `requeue_overdue` on: no new work.
    blocked_for_overdue: bool = False
    version: int = 0

    def snapshot(self) -> Agent:
        """A shallow copy, field by field (see `Conversation.snapshot`)."""
        copied = object.__new__(Agent)
        copied.id = self.id
        copied.status = self.status
        copied.preferred_concurrency = self.preferred_concurrency
        copied.max_concurrency = self.max_concurrency
        copied.skills = self.skills
        copied.load = self.load
        copied.last_assigned_at = self.last_assigned_at
        copied.blocked_for_overdue = self.blocked_for_overdue
        copied.version = self.version
        return copied


@dataclass(frozen=True, slots=True)
class Worklist:
    """An agent's conversations (docs/concepts.md#adaptive-response-timer): awaiting it in priority
    order, awaiting the
    customer oldest wait first, and apart, the inactive ones it last served."""

    agent_id: str
    awaiting_agent: tuple[Conversation, ...]
    awaiting_customer: tuple[Conversation, ...]
    inactive: tuple[Conversation, ...]


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    rule_id: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class Routing:
    agent_id: str | None
    reason: RoutingReason


@dataclass(slots=True)
class Event:
    """Something that happened, with a reason code, for the audit trail and live streams.

    Treat as immutable. Not declared frozen only because the engine makes one or two
    per routing decision and a frozen dataclass takes three times as long to build.
    """

    kind: EventKind
    at: datetime
    conversation_id: str | None = None
    agent_id: str | None = None
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    """What handling one message did. Stored per message id for idempotent replays."""

    message_id: str
    conversation_id: str
    direction: Direction
    text: str
    received_at: datetime
    classification: Classification
    decision: Decision
    routing: Routing
    conversation: Conversation
    events: tuple[Event, ...]
    duplicate: bool = False


@dataclass
class Changes:
    """Everything one engine call changed: the unit of work a store persists atomically."""

    conversations: dict[str, Conversation] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)
    messages: list[MessageOutcome] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.conversations or self.agents or self.messages or self.events)


ZERO = timedelta(0)
