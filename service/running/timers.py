"""Fires engine timers from the wall clock.

Sleeps until the engine's next deadline, or until a commit brings a timer due before
it, then ticks the engine (which fires every due timer in deadline order). With a
manual clock this task does not run: time moves only by `POST /v1/admin/clock`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from tidal.service.running.services import Services

log = logging.getLogger("tidal.timers")

#: wake at least this often, so a clock jump (suspend, NTP) is noticed
MAX_SLEEP_SECONDS = 30.0


async def run_timers(services: Services) -> None:
    runtime, clock, metrics = services.runtime, services.clock, services.metrics
    while True:
        try:
            runtime.changed.clear()
            deadline = await runtime.execute(lambda engine: engine.next_deadline())
            now = clock.now()
            if deadline is not None and deadline <= now:
                metrics.timer_lag.observe((now - deadline).total_seconds())
                await runtime.execute(lambda engine: engine.tick())
                continue
            delay = MAX_SLEEP_SECONDS
            if deadline is not None:
                delay = min(delay, (deadline - now).total_seconds())
            runtime.sleeping_until = deadline
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(runtime.changed.wait(), delay)
            runtime.sleeping_until = None
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("firing timers failed; retrying")
            await asyncio.sleep(1.0)
