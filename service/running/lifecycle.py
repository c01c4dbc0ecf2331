"""Starting and stopping what a writing service runs, in order.

`activate` restores the engine from the database (while the classifier process loads
its rules and models), starts the engine thread (which also commits), the timer task
(on the wall clock) and the classifier upkeep; `deactivate` stops them again, finishing
every accepted request first. The app (`tidal.service.http.app`) calls them once this
process holds the database's writer lock (`tidal.service.replication.takeover`).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import anyio

from tidal.service.classifier.process import ClassifierProcess
from tidal.service.classifier.upkeep import keep_classifier_process, start_classifier_process
from tidal.service.config import Settings
from tidal.service.metrics import Metrics
from tidal.service.running.bootstrap import start_services, stop_services
from tidal.service.running.rules import ActiveRules
from tidal.service.running.services import Services
from tidal.service.running.timers import run_timers

#: seconds the classifier process may take to end at shutdown before it is killed
HELPER_STOP_SECONDS = 1.0
#: seconds the engine thread may take to finish queued work at shutdown
ENGINE_STOP_SECONDS = 3.0


@dataclass
class Running:
    """A started service and its background tasks."""

    services: Services
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


async def activate(settings: Settings, metrics: Metrics, rules: ActiveRules | None) -> Running:
    """Restore and start everything; `rules` if already loaded (else read from disk)."""
    # the classifier process loads its rules and models while the state is restored
    starting = (
        asyncio.create_task(start_classifier_process(settings, rules, metrics))
        if rules is not None
        else None
    )
    try:
        services: Services = await anyio.to_thread.run_sync(
            start_services, settings, metrics, rules
        )
    except BaseException:
        if starting is not None:
            await _discard(starting)
        raise
    services.classifier_process = (
        await starting
        if starting is not None
        else await start_classifier_process(settings, services.rules, metrics)
    )
    services.runtime.start(asyncio.get_running_loop())
    running = Running(services)
    if services.manual_clock is None:
        running.tasks.append(asyncio.create_task(run_timers(services), name="tidal-timers"))
    running.tasks.append(
        asyncio.create_task(keep_classifier_process(services), name="tidal-classifier-upkeep")
    )
    return running


async def deactivate(running: Running) -> None:
    """Stop what `activate` started (after the server stopped taking requests).

    Bounded whatever is in flight: the classifier process gets `HELPER_STOP_SECONDS` to
    end before it is killed, and the engine thread `ENGINE_STOP_SECONDS` to finish
    queued work; work still running then was never answered and ends with the process
    (answers are only given after their commit, so nothing acknowledged is lost)."""
    services = running.services
    services.stopping = True
    for task in running.tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    services.hub.close_all()
    if services.classifier_process is not None:
        await services.classifier_process.close(grace_seconds=HELPER_STOP_SECONDS)
    await anyio.to_thread.run_sync(stop_services, services, ENGINE_STOP_SECONDS)


async def _discard(starting: asyncio.Task[ClassifierProcess | None]) -> None:
    """Stop a classifier process being started for a service that did not start."""
    starting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        helper = await starting
        if helper is not None:
            await helper.close()
