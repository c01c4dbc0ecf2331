"""Domain records rendered as the API's JSON (shapes in `tidal.service.http.routes.schemas`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tidal.engine.core.intents import Classification
from tidal.engine.core.model import Agent, Conversation, MessageOutcome, Priority, State


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def priority_view(p: Priority | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "pace_seconds": p.pace_seconds,
        "target_seconds": p.target_seconds,
        "boosts": list(p.boosts),
        "respond_by": _iso(p.respond_by),
        "awaiting_since": _iso(p.awaiting_since),
    }


def conversation_brief(c: Conversation, priority: Priority | None) -> dict[str, Any]:
    return {
        "id": c.id,
        "state": str(c.state),
        "awaiting": str(c.awaiting) if c.awaiting is not None else None,
        "agent_id": c.agent_id,
        "last_agent_id": c.last_agent_id,
        "respond_by": _iso(c.respond_by),
        "priority": priority_view(priority) if c.state != State.CLOSED else None,
    }


def conversation_summary(c: Conversation, priority: Priority | None) -> dict[str, Any]:
    view = conversation_brief(c, priority)
    view.update(
        channel=c.channel,
        customer_id=c.customer_id,
        skills=sorted(c.skills),
        awaiting_since=_iso(c.awaiting_since),
        last_inbound_at=_iso(c.last_inbound_at),
        last_outbound_at=_iso(c.last_outbound_at),
        opened_at=_iso(c.opened_at),
        last_inbound_text=c.last_inbound_text,
        last_inbound_intent=c.last_inbound_intent,
    )
    return view


def conversation_detail(c: Conversation, priority: Priority | None) -> dict[str, Any]:
    view = conversation_summary(c, priority)
    view.update(
        pace_seconds=c.pace_seconds,
        last_outbound_intent=c.last_outbound_intent,
        closed_at=_iso(c.closed_at),
        close_reason=c.close_reason,
        inactive_since=_iso(c.inactive_since),
        inactive_reason=c.inactive_reason,
        opted_out=c.opted_out,
    )
    return view


def agent_view(a: Agent) -> dict[str, Any]:
    return {
        "id": a.id,
        "status": str(a.status),
        "preferred_concurrency": a.preferred_concurrency,
        "max_concurrency": a.max_concurrency,
        "skills": sorted(a.skills),
        "load": a.load,
        "last_assigned_at": _iso(a.last_assigned_at),
        "blocked_for_overdue": a.blocked_for_overdue,
    }


def classification_view(c: Classification) -> dict[str, Any]:
    return {
        "intent": c.intent,
        "confidence": c.confidence,
        "source": c.source,
        "rule_id": c.rule_id,
        "model_version": c.model_version,
        "alternatives": [{"intent": a.intent, "confidence": a.confidence} for a in c.alternatives],
    }


def message_response(outcome: MessageOutcome, priority: Priority | None) -> dict[str, Any]:
    """The body of `POST /v1/messages` (docs/http-api.md), as stored for duplicates."""
    return {
        "message_id": outcome.message_id,
        "conversation_id": outcome.conversation_id,
        "duplicate": outcome.duplicate,
        "classification": classification_view(outcome.classification),
        "decision": {
            "action": str(outcome.decision.action),
            "rule_id": outcome.decision.rule_id,
            "reason": outcome.decision.reason,
        },
        "conversation": conversation_brief(outcome.conversation, priority),
        "routing": {"agent_id": outcome.routing.agent_id, "reason": outcome.routing.reason},
    }
