"""One message through the workflow and the transition table (docs/concepts.md#what-a-message-does,
docs/rules.md#workflow-rules)."""

from __future__ import annotations

from datetime import datetime

from tidal.engine.core.intents import Classification
from tidal.engine.core.model import (
    MESSAGE_PREVIEW_CHARS,
    Action,
    Agent,
    Conversation,
    Decision,
    Event,
    EventKind,
    IncomingMessage,
    MessageOutcome,
    Routing,
    RoutingReason,
    State,
)
from tidal.engine.core.priority import updated_pace
from tidal.engine.core.routing import takes_manual_pickup
from tidal.engine.core.transitions import Effect, Situation, situation_of, transition
from tidal.engine.core.workflow import NEW_STATE, NOBODY, MessageContext, WorkflowRules
from tidal.engine.core.workspace import Workspace


def handle_message(
    ws: Workspace,
    workflow: WorkflowRules,
    message: IncomingMessage,
    classification: Classification,
    at: datetime,
    agent: Agent | None,
) -> MessageOutcome:
    """Apply one (validated, not yet seen) message at moment `at`."""
    events_before = len(ws.changes.events)
    existing = ws.conversations.get(message.conversation_id)
    channel = existing.channel if existing is not None else message.channel
    cs = ws.settings.for_channel(channel)
    ctx = MessageContext(
        direction=message.direction,
        intent=classification.intent,
        confidence=classification.confidence,
        state=existing.state.value if existing is not None else NEW_STATE,
        awaiting=existing.awaiting.value if existing and existing.awaiting else NOBODY,
        channel=channel,
        after=existing.pending_outbound_intent if existing is not None else None,
    )
    decision, flags = workflow.decide(ctx)
    situation = situation_of(existing, at, cs)
    step = transition(message.direction, situation, decision.action)

    conversation = existing or Conversation(
        id=message.conversation_id,
        channel=message.channel,
        customer_id=message.customer_id,
        skills=message.skills,
        state=State.QUEUED,  # provisional: the effect below decides
        opened_at=at,
    )
    if existing is None:
        ws.conversations[conversation.id] = conversation
    _note_metadata(conversation, message)
    if decision.action is not Action.IGNORE:
        _note_message(ws, conversation, message, classification, at)
    if "opted_out" in flags:
        conversation.opted_out = True

    effect = step.effect
    routing: RoutingReason | None = None
    if step.pickup:
        assert agent is not None  # outbound messages carry a known agent
        if conversation.state is not State.ASSIGNED and takes_manual_pickup(agent):
            ws.emit([ws.router.assign(conversation, agent, at, "manual")])
            routing = "manual"
        elif conversation.state is not State.ASSIGNED:
            # the agent has no room (or is offline): its message is only recorded
            effect = Effect.OPEN_INACTIVE if situation is Situation.NEW else Effect.RECORD

    applied = _apply(
        ws, conversation, effect, situation, decision.reason, at, urgent=step.urgent, agent=agent
    )
    routing = routing or applied
    ws.sync(conversation)

    if routing is None:
        routing = _settled_reason(conversation)
    outcome = MessageOutcome(
        message_id=message.message_id,
        conversation_id=conversation.id,
        direction=message.direction,
        text=message.text,
        received_at=at,
        classification=classification,
        decision=Decision(decision.action, decision.rule_id, decision.reason),
        routing=Routing(conversation.agent_id, routing),
        conversation=conversation.snapshot(),
        events=tuple(ws.changes.events[events_before:]),
    )
    ws.record_outcome(outcome)
    return outcome


def _apply(
    ws: Workspace,
    conversation: Conversation,
    effect: Effect,
    situation: Situation,
    reason: str | None,
    at: datetime,
    *,
    urgent: bool,
    agent: Agent | None,
) -> RoutingReason | None:
    """Carry out one transition; the routing reason when the effect decided one."""
    c = conversation
    if effect is Effect.OPEN_INACTIVE:
        if agent is not None:
            c.last_agent_id = agent.id
        ws.inactivate(c, reason or "opened_without_request", at)
    elif effect is Effect.OPEN_CLOSED or effect is Effect.CLOSE:
        ws.close(c, reason or "closed", at)
    elif effect is Effect.INACTIVATE:
        ws.inactivate(c, reason or "paused", at)
    elif effect is Effect.QUEUE:
        if situation is Situation.CLOSED_LONG_AGO:
            c.closed_at = None
            c.close_reason = None
            ws.emit([Event(EventKind.REOPENED, at, c.id, None, "after_reopen_window")])
        c.state = State.QUEUED
        changed = ws.await_agent(c, at, urgent=urgent)
        ws.emit([changed] if changed else [])
        ws.emit(ws.router.enqueue(c, at, "new_work"))
        return "least_loaded" if c.state is State.ASSIGNED else "queued"
    elif effect is Effect.REACTIVATE:
        _, sticky_reason = ws.reactivate(c, at, urgent=urgent)
        return _as_reason(sticky_reason)
    elif effect is Effect.AWAIT_AGENT:
        changed = ws.await_agent(c, at, urgent=urgent)
        ws.emit([changed] if changed else [])
    elif effect is Effect.AWAIT_CUSTOMER:
        handed_over = ws.await_customer(c, at)
        ws.emit([handed_over] if handed_over else [])
    elif effect is Effect.HOLD:
        ws.emit([ws.hold(c, at)])
    return None


def _note_metadata(conversation: Conversation, message: IncomingMessage) -> None:
    if conversation.customer_id is None and message.customer_id is not None:
        conversation.customer_id = message.customer_id
    if message.skills and message.skills != conversation.skills:
        conversation.skills = message.skills


def _note_message(
    ws: Workspace,
    conversation: Conversation,
    message: IncomingMessage,
    classification: Classification,
    at: datetime,
) -> None:
    """What every message that is not ignored leaves behind (pace:
    docs/concepts.md#adaptive-response-timer; `after`: docs/rules.md#workflow-rules)."""
    c = conversation
    if message.direction == "inbound":
        if c.customer_turn_since is not None:
            cs = ws.settings_for(c)
            c.pace_seconds = updated_pace(c.pace_seconds, at - c.customer_turn_since, cs)
            c.customer_turn_since = None
        c.last_inbound_at = at
        c.last_inbound_text = message.text[:MESSAGE_PREVIEW_CHARS]
        c.last_inbound_intent = classification.intent
        c.pending_outbound_intent = None
    else:
        c.last_outbound_at = at
        c.last_outbound_intent = classification.intent
        c.pending_outbound_intent = classification.intent


def _settled_reason(conversation: Conversation) -> RoutingReason:
    if conversation.state is State.CLOSED:
        return "closed"
    if conversation.state is State.QUEUED:
        return "queued"
    return "unchanged"


def _as_reason(reason: str) -> RoutingReason:
    for known in ("sticky", "sticky_unavailable", "least_loaded", "queued"):
        if reason == known:
            return known
    return "unchanged"
