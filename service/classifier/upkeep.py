"""Starts a classifier process when the settings want one, and keeps it running.

A helper that failed (`ClassifierProcess.alive` turned false: it died, stalled or
answered garbage) or could not start is replaced after a pause. Each failure in a row
doubles the pause, up to `MAX_PAUSE_SECONDS`, so a helper that cannot run (a text that
crashes it, a machine out of memory) costs a start now and then rather than a loop of
starts; a helper that stayed up for `HEALTHY_SECONDS` resets it. Meanwhile messages are
classified in-process, as whenever no helper serves. Starting takes the reload lock,
so a reload and a restart never both start one. Once the service is stopping
(`Services.stopping`) no helper is started again.
"""

from __future__ import annotations

import asyncio
import logging

from tidal.service.classifier.process import ClassifierProcess
from tidal.service.config import Settings
from tidal.service.metrics import Metrics
from tidal.service.running.rules import ActiveRules
from tidal.service.running.services import Services

log = logging.getLogger("tidal.classify")

#: the longest pause between two starts
MAX_PAUSE_SECONDS = 300.0
#: a helper up this long has recovered: the next failure waits the first pause again
HEALTHY_SECONDS = 60.0
#: how often the helper's state is looked at
CHECK_SECONDS = 0.5


async def start_classifier_process(
    settings: Settings, rules: ActiveRules, metrics: Metrics
) -> ClassifierProcess | None:
    """A helper process classifying for `rules`, or None when the settings want none or
    it could not start (see `tidal.service.classifier.process`)."""
    if not settings.classifier_process:
        return None
    try:
        return await ClassifierProcess.start(rules, metrics)
    except Exception:  # e.g. no process could be made: the service runs without it
        log.exception("classifier process not started; messages are classified in-process")
        return None


async def keep_classifier_process(services: Services) -> None:
    """Runs until cancelled (at shutdown); returns at once if no helper is wanted."""
    settings = services.settings
    if not settings.classifier_process:
        return
    loop = asyncio.get_running_loop()
    first_pause = settings.classifier_restart_seconds
    pause, started_at = first_pause, loop.time()
    while not services.stopping:
        await asyncio.sleep(CHECK_SECONDS)
        helper = services.classifier_process
        if services.reload_lock.locked():
            continue  # a reload is replacing the helper itself
        if helper is not None and helper.alive:
            if loop.time() - started_at >= HEALTHY_SECONDS:
                pause = first_pause
            continue
        await asyncio.sleep(pause)
        async with services.reload_lock:
            if services.stopping:
                return  # a helper started now would outlive the service's stop
            current = services.classifier_process
            if current is not None and current.alive:
                continue  # a reload started one meanwhile
            if current is not None:
                await current.close()  # reaps the failed process
            log.info("starting a new classifier process", extra={"after_seconds": pause})
            services.classifier_process = await start_classifier_process(
                settings, services.rules, services.metrics
            )
        pause, started_at = min(2 * pause, MAX_PAUSE_SECONDS), loop.time()
