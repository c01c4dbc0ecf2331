"""The timer task fires due timers by itself (on the wall clock it is the only thing
that moves conversations when no request comes). Driven here with a manual clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from tests.service.conftest import T0, manual_settings, table_rules
from tidal.engine.core.clock import ManualClock
from tidal.engine.core.intents import Classification
from tidal.engine.core.model import IncomingMessage, State
from tidal.engine.rulesio.bundle import EngineRules
from tidal.service.metrics import Metrics
from tidal.service.running.bootstrap import start_services, stop_services
from tidal.service.running.timers import run_timers

pytestmark = pytest.mark.timeout(60)


def test_the_timer_task_inactivates_a_silent_conversation_without_any_request(
    tmp_path: Path, engine_rules: EngineRules
) -> None:
    services = start_services(manual_settings(tmp_path), Metrics(), table_rules(engine_rules))
    clock = services.manual_clock
    assert isinstance(clock, ManualClock)
    other = Classification("other", 0.9, "model")

    async def scenario() -> State:
        runtime = services.runtime
        runtime.start(asyncio.get_running_loop())
        await runtime.execute(
            lambda e: e.upsert_agent(
                "a-1", status="available", preferred_concurrency=2, max_concurrency=3
            )
        )
        await runtime.execute(
            lambda e: e.handle(
                IncomingMessage("m-1", "c-1", "inbound", "my card is blocked"), other
            )
        )
        await runtime.execute(
            lambda e: e.handle(
                IncomingMessage("m-2", "c-1", "outbound", "Done.", agent_id="a-1"), other
            )
        )
        timers = asyncio.create_task(run_timers(services))
        await asyncio.sleep(0)
        clock.set(T0 + timedelta(minutes=31))  # time passes; no request arrives
        runtime.changed.set()  # stands in for the sleep running out
        try:
            while True:
                conversation = await runtime.execute(lambda e: e.conversation("c-1"))
                assert conversation is not None
                if conversation.state is not State.ASSIGNED:
                    return conversation.state
                await asyncio.sleep(0.01)
        finally:
            timers.cancel()

    try:
        state = asyncio.run(scenario())
    finally:
        stop_services(services)
    assert state is State.INACTIVE
    lag_count = services.metrics.registry.get_sample_value("tidal_timer_lag_seconds_count")
    assert lag_count is not None and lag_count >= 1
    events = services.store.events_after(0)
    assert [e.reason for e in events if e.kind == "inactivated"] == ["customer_silent"]
