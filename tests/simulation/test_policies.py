"""Policies are configuration: FIFO and the adaptive timer differ only in settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tidal.engine.core.clock import ManualClock
from tidal.engine.core.engine import Engine
from tidal.engine.core.intents import Classification, Direction
from tidal.engine.core.model import IncomingMessage
from tidal.engine.rulesio.bundle import load_engine_rules
from tidal.simulation.policies import UnknownPolicy, parse_policy, without_inactive

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OTHER = Classification("other", 1.0, "rule")


def _queue_order(policy_name: str) -> list[str]:
    """A fast and a slow customer, both waiting with no agent: who is first in the queue?"""
    rules = load_engine_rules(ROOT / "rules")
    policy = parse_policy(policy_name)
    clock = ManualClock(START)
    engine = Engine(policy.routing(rules.routing), policy.workflow(rules.workflow), clock)
    engine.upsert_agent("a-1", preferred_concurrency=2, max_concurrency=2)
    sent = 0

    def say(conversation: str, direction: Direction) -> None:
        nonlocal sent
        sent += 1
        message = IncomingMessage(f"m{sent}", conversation, direction, "text", agent_id="a-1")
        engine.handle(message, OTHER)

    # both conversations with the agent; the slow customer answers after 10 minutes,
    # the fast one after 10 seconds
    say("slow", "inbound")
    say("fast", "inbound")
    say("slow", "outbound")
    say("fast", "outbound")
    clock.advance(timedelta(seconds=10))
    say("fast", "inbound")
    say("fast", "outbound")
    clock.advance(timedelta(minutes=10))
    say("slow", "inbound")  # waits since 09:10:10
    clock.advance(timedelta(seconds=5))
    say("fast", "inbound")  # waits since 09:10:15
    engine.upsert_agent("a-1", status="offline")  # both go back to the queue
    return [c.id for c in engine.queue()]


def test_fifo_orders_by_waiting_time_alone() -> None:
    assert _queue_order("fifo") == ["slow", "fast"]


def test_the_adaptive_timer_puts_the_fast_customer_first() -> None:
    assert _queue_order("adaptive") == ["fast", "slow"]


def test_no_inactive_keeps_quiet_conversations_and_ignores_brb() -> None:
    policy = parse_policy("adaptive-no-inactive-2-4")
    assert policy.settings["inactivity_timeout"] > timedelta(days=1)
    assert policy.workflow_actions == {"pause-when-customer-away": "ignore"}
    assert (policy.preferred, policy.maximum) == (2, 4)
    assert not policy.inactive_state
    assert without_inactive(parse_policy("fifo-3-5")).name == "fifo-no-inactive-3-5"


@pytest.mark.parametrize("name", ["lifo", "fifo-5-3", "adaptive-0-2", "fifo-no-inactive-x"])
def test_a_bad_policy_name_says_what_is_allowed(name: str) -> None:
    with pytest.raises(UnknownPolicy):
        parse_policy(name)
