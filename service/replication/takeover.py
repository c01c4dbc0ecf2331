"""Becoming the database's writer: now if the writer lock is free, else as soon as it is.

A service that takes the writer lock (`tidal.service.replication.writer_lock`) at start
runs the engine at once. One that cannot is a replica: it forwards the API to the writer
(`tidal.service.replication.forwarding`) and tries the lock every `STANDBY_POLL_SECONDS`;
when the writer stops or dies it takes the lock and becomes the writer itself. A
takeover that fails (the database refuses the restore, say) gives the lock back, so
another replica may try first, and this one tries again after `TAKEOVER_RETRY_SECONDS`.

What becoming the writer means (restoring and starting the engine) is the app's to say:
`WriterElection` only calls it (`tidal.service.http.app` passes it in).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import anyio

from tidal.service.config import Settings
from tidal.service.metrics import Metrics
from tidal.service.persistence.store import DurableStore
from tidal.service.replication.forwarding import Forwarder
from tidal.service.replication.writer_lock import writer_lock_for

log = logging.getLogger("tidal.app")
#: how often a replica tries to take the writer lock (seconds)
STANDBY_POLL_SECONDS = 1
#: how long a replica whose takeover failed waits before it tries again (seconds)
TAKEOVER_RETRY_SECONDS = 10


class WriterElection:
    """One service's claim to write its database, from start (`enter`) to stop (`leave`).

    `become_writer` restores and starts the engine; `forwarder` is set while this service
    is a replica and None while it is the writer from the start.
    """

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        become_writer: Callable[[], Awaitable[None]],
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._become_writer = become_writer
        self._lock = writer_lock_for(settings.db_url)
        self._takeover: asyncio.Task[None] | None = None
        #: reads the writer's advertised address while this service is a replica
        self._reader: DurableStore | None = None
        self.forwarder: Forwarder | None = None

    async def enter(self) -> None:
        """Become the writer now, or start as a replica that takes over later."""
        if await anyio.to_thread.run_sync(self._lock.try_acquire):
            try:
                await self._write()
            except BaseException:
                await anyio.to_thread.run_sync(self._lock.release)
                raise
            return
        log.warning(
            "replica: another Tidal service writes this database; this one forwards "
            "the API to it and takes over when it stops"
        )
        settings = self._settings
        self._reader = DurableStore(settings.db_url)
        self.forwarder = Forwarder(
            self._reader.writer_address,
            settings.advertise_url,
            max_body_bytes=settings.max_body_bytes,
            retry_after_seconds=STANDBY_POLL_SECONDS,
        )
        self._takeover = asyncio.create_task(self._take_over(), name="tidal-takeover")

    async def stop_taking_over(self) -> None:
        """Give up waiting for the lock (the service is stopping)."""
        if self._takeover is not None:
            self._takeover.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._takeover

    async def leave(self) -> None:
        """Close what the replica used and release the lock (once the engine stopped)."""
        if self.forwarder is not None:
            await self.forwarder.aclose()
        if self._reader is not None:
            self._reader.close()
        self._metrics.writer.set(0)
        await anyio.to_thread.run_sync(self._lock.release)

    async def _write(self) -> None:
        await self._become_writer()
        self._metrics.writer.set(1)

    async def _take_over(self) -> None:
        while True:
            while not await anyio.to_thread.run_sync(self._lock.try_acquire):
                await asyncio.sleep(STANDBY_POLL_SECONDS)
            log.warning("the database's writer stopped: this service takes over")
            try:
                await self._write()
                return
            except Exception:
                # let another replica try first; this one keeps forwarding meanwhile
                log.exception("taking over failed; trying again later")
                await anyio.to_thread.run_sync(self._lock.release)
                await asyncio.sleep(TAKEOVER_RETRY_SECONDS)
