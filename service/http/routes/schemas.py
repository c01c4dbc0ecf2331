"""Request and response bodies of the API (pydantic), documented field by field.

Responses are rendered by `tidal.service.views` and checked against these models in the
tests (`extra="forbid"`), so the OpenAPI document describes exactly what is sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tidal.service.http.routes.fields import Code, Identifier, StrictInt, Text, Timestamp

DirectionName = Literal["inbound", "outbound"]
StateName = Literal["queued", "assigned", "inactive", "closed"]
AwaitingName = Literal["agent", "customer"]
AgentStatusName = Literal["available", "busy", "away", "offline"]
ActionName = Literal[
    "activate", "ignore", "close", "inactivate", "escalate", "await_customer", "hold"
]
RoutingReasonName = Literal[
    "least_loaded", "sticky", "sticky_unavailable", "queued", "manual", "unchanged", "closed"
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests --------------------------------------------------------------------------


class MessageIn(Strict):
    """One message to classify and route."""

    message_id: Identifier = Field(description="Caller's unique id; posting it again is a no-op.")
    conversation_id: Identifier = Field(description="Caller's conversation id.")
    direction: DirectionName = Field(description="`inbound` (customer) or `outbound` (agent).")
    text: Text = Field(description="The message text (at most 64 KiB of UTF-8; no NUL).")
    sent_at: Timestamp | None = Field(
        default=None,
        description="When it was sent (RFC 3339 with offset, 1970 to 2999); default: now.",
    )
    channel: Code | None = Field(default=None, description="e.g. `sms`.")
    customer_id: Identifier | None = Field(default=None, description="Customer's id.")
    agent_id: Identifier | None = Field(
        default=None, description="The sending agent; required when outbound."
    )
    skills: list[Code] = Field(
        default_factory=list, max_length=64, description="Skills the conversation requires."
    )


class ClassifyIn(Strict):
    """A text to classify, without any state change."""

    text: Text = Field(description="The message text (at most 64 KiB of UTF-8; no NUL).")
    direction: DirectionName = Field(description="`inbound` or `outbound`.")


class CloseIn(Strict):
    reason: Code = Field(
        default="closed_by_request",
        description="Reason code recorded on the conversation and in the audit trail.",
    )


class InactivateIn(Strict):
    reason: Code = Field(
        default="agent_paused",
        description="Reason code recorded on the conversation and in the audit trail.",
    )


class AgentIn(Strict):
    """Create or update an agent; omitted fields keep their value (or the defaults)."""

    status: AgentStatusName | None = Field(default=None, description="Agent status.")
    preferred_concurrency: StrictInt | None = Field(
        default=None, ge=0, le=1000, description="How many active conversations new work fills."
    )
    max_concurrency: StrictInt | None = Field(
        default=None, ge=1, le=1000, description="Ceiling that only returning work may use."
    )
    skills: list[Code] | None = Field(default=None, max_length=64, description="Agent's skills.")


class ClockIn(Strict):
    now: Timestamp = Field(
        description="The new time of the manual clock (never earlier; 1970 to 2999)."
    )


# -- responses -------------------------------------------------------------------------


class AlternativeOut(Strict):
    intent: str = Field(description="Another intent the model considered.")
    confidence: float = Field(description="Its probability.")


class ClassificationOut(Strict):
    intent: str = Field(description="The workflow intent.")
    confidence: float = Field(description="1.0 for rules; the model's probability otherwise.")
    source: Literal["rule", "model", "encoder", "fallback"] = Field(
        description="What decided the intent (`encoder`: the sentence-encoder stage)."
    )
    rule_id: str | None = Field(description="The matching intent rule, when source is `rule`.")
    model_version: str | None = Field(description="The model's version, when one was used.")
    alternatives: list[AlternativeOut] = Field(description="Top alternatives, most likely first.")


class DecisionOut(Strict):
    action: ActionName = Field(
        description="What the workflow did (docs/concepts.md#what-a-message-does)."
    )
    rule_id: str | None = Field(description="The workflow rule that decided.")
    reason: str | None = Field(description="Reason code.")


class PriorityOut(Strict):
    pace_seconds: float = Field(description="The customer's pace (weighted mean reply delay).")
    target_seconds: float = Field(description="Response target derived from the pace.")
    boosts: list[str] = Field(description="What shortened the target (e.g. `escalated`).")
    respond_by: datetime | None = Field(description="Reply deadline while awaiting the agent.")
    awaiting_since: datetime | None = Field(description="When it started awaiting the agent.")


class ConversationBrief(Strict):
    id: str
    state: StateName
    awaiting: AwaitingName | None
    agent_id: str | None = Field(description="The assigned agent (state `assigned`).")
    last_agent_id: str | None = Field(description="The last agent who had it (sticky routing).")
    respond_by: datetime | None
    priority: PriorityOut | None = Field(description="Why it sits where it does; null if closed.")


class RoutingOut(Strict):
    agent_id: str | None = Field(description="The agent it went to, if any.")
    reason: RoutingReasonName


class MessageOut(Strict):
    """The outcome of one message (docs/http-api.md)."""

    message_id: str
    conversation_id: str
    duplicate: bool = Field(description="True when this message id was seen before.")
    classification: ClassificationOut
    decision: DecisionOut
    conversation: ConversationBrief
    routing: RoutingOut


class ConversationSummary(ConversationBrief):
    """A conversation in a queue or worklist."""

    channel: str | None
    customer_id: str | None
    skills: list[str]
    awaiting_since: datetime | None
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    opened_at: datetime
    last_inbound_text: str | None = Field(
        description="The start (up to 280 characters) of the customer's latest message "
        "that was not ignored."
    )
    last_inbound_intent: str | None = Field(description="That message's intent.")


class DecisionRecord(Strict):
    message_id: str
    direction: DirectionName
    received_at: datetime
    intent: str
    confidence: float
    source: str
    action: ActionName
    rule_id: str | None
    reason: str | None
    routing: RoutingOut


class EventOut(Strict):
    """An audit-trail event; also the `data` of each Server-Sent Event."""

    id: int = Field(description="Increasing id (the SSE `id:`; resume with Last-Event-ID).")
    kind: str = Field(description="assigned, queued, reactivated, inactivated, closed, ...")
    at: datetime
    conversation_id: str | None
    agent_id: str | None
    reason: str | None
    message_id: str | None = Field(description="The message that caused it, if any.")
    data: dict[str, Any]


class ConversationOut(ConversationSummary):
    """A conversation's fields (docs/concepts.md#conversations-and-states), its priority and its
    recent history."""

    pace_seconds: float | None
    last_outbound_intent: str | None
    closed_at: datetime | None
    close_reason: str | None
    inactive_since: datetime | None
    inactive_reason: str | None
    opted_out: bool
    recent_decisions: list[DecisionRecord] = Field(description="Latest message decisions.")
    recent_events: list[EventOut] = Field(description="Latest audit-trail events.")


class AgentOut(Strict):
    id: str
    status: AgentStatusName
    preferred_concurrency: int
    max_concurrency: int
    skills: list[str]
    load: int = Field(description="Number of assigned conversations.")
    last_assigned_at: datetime | None
    blocked_for_overdue: bool = Field(description="No new work until an overdue reply is sent.")


class AgentList(Strict):
    agents: list[AgentOut]


class WorklistOut(Strict):
    agent_id: str
    awaiting_agent: list[ConversationSummary] = Field(description="Reply order (priority).")
    awaiting_customer: list[ConversationSummary] = Field(description="Oldest wait first.")
    inactive: list[ConversationSummary] = Field(description="Paused, this agent was last.")


class QueueOut(Strict):
    conversations: list[ConversationSummary] = Field(description="In priority order.")


class TakeOut(Strict):
    conversation: ConversationSummary | None = Field(
        description="The conversation picked up, or null when none could be taken."
    )


class ReloadOut(Strict):
    generation: int = Field(description="Increases with every successful reload.")
    rules_dir: str
    models_dir: str


class ClockOut(Strict):
    now: datetime
    fired_events: int = Field(description="Events caused by timers that fired.")


class TokenOut(Strict):
    """An API token as listed: never its secret (only a hash of it is stored)."""

    id: int = Field(description="The token's id (`tidal token revoke ID`).")
    role: Literal["service", "agent", "supervisor", "admin"]
    agent_id: str | None = Field(description="For agent tokens, the agent it acts for.")
    label: str | None = Field(description="The note given when it was created.")
    created_at: datetime
    revoked: bool = Field(description="A revoked token is refused (within 5 s everywhere).")


class TokenList(Strict):
    tokens: list[TokenOut] = Field(description="Every token, oldest first.")


class HealthOut(Strict):
    status: Literal["ok", "failing"]
    clock: Literal["wall", "manual"]
    now: datetime
