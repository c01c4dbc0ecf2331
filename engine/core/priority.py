"""The adaptive response timer (docs/concepts.md#adaptive-response-timer): pace, target, respond_by
and their ordering."""

from __future__ import annotations

from datetime import timedelta

from tidal.engine.core.model import Conversation, Priority
from tidal.engine.core.settings import ChannelSettings

ESCALATED = "escalated"
HOLD = "hold"


def updated_pace(previous: float | None, delay: timedelta, settings: ChannelSettings) -> float:
    """The new pace (seconds) after the customer replied `delay` after the agent's turn."""
    base = previous if previous is not None else settings.default_pace.total_seconds()
    sample = max(delay.total_seconds(), 0.0)
    return settings.pace_alpha * sample + (1 - settings.pace_alpha) * base


def pace_of(conversation: Conversation, settings: ChannelSettings) -> float:
    if conversation.pace_seconds is not None:
        return conversation.pace_seconds
    return settings.default_pace.total_seconds()


def target_seconds(pace: float, settings: ChannelSettings, *, urgent: bool = False) -> float:
    """clamp(pace_factor × pace, target_min, target_max), cut for escalations."""
    low = settings.target_min.total_seconds()
    high = settings.target_max.total_seconds()
    target = min(max(settings.pace_factor * pace, low), high)
    if urgent:
        target = max(target * settings.escalation_factor, low)
    return target


def explain(conversation: Conversation, settings: ChannelSettings) -> Priority:
    pace = pace_of(conversation, settings)
    target = conversation.target_seconds
    if target is None:
        target = target_seconds(pace, settings)
    return Priority(
        pace_seconds=pace,
        target_seconds=target,
        boosts=conversation.boosts,
        respond_by=conversation.respond_by,
        awaiting_since=conversation.awaiting_since,
    )


_NEVER = float("inf")


def queue_key(conversation: Conversation) -> tuple[float, float, str]:
    """Queue and worklist order: respond_by, then the start of the wait, then id."""
    respond_by = conversation.respond_by
    since = conversation.awaiting_since
    return (
        respond_by.timestamp() if respond_by is not None else _NEVER,
        since.timestamp() if since is not None else _NEVER,
        conversation.id,
    )


def waiting_on_customer_key(conversation: Conversation) -> tuple[float, str]:
    """Conversations awaiting the customer: the oldest wait first."""
    since = conversation.awaiting_since
    return (since.timestamp() if since is not None else _NEVER, conversation.id)
