"""The engine worker and group commit.

The engine is single-threaded and the in-memory authority. Every call runs as a job
on one engine thread; the job drains the engine's changes into a ticket. The thread
runs jobs while more are queued and, as soon as the queue runs dry, commits the
changes of every job it ran since its last transaction in ONE transaction (one fsync):
group commit. A request's answer is released only after the batch holding its
changes committed, so every acknowledged answer is durable; requests that arrive
during a commit queue up and share the next one.

Read-only jobs travel the same path (with nothing to write), so a read never sees
state that is not yet durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from engine.core.engine import Engine
from engine.core.model import Changes
from service.metrics import Metrics
from service.persistence.store import CommitBatch, DurableStore, StoredEvent, event_rows_for
from service.problems import Problem

T = TypeVar("T")
log = logging.getLogger("tidal.runtime")


@dataclass(eq=False)
class Ticket(Generic[T]):
    """One job's result waiting for its changes to be committed."""

    future: asyncio.Future[T]
    value: Any = None
    error: BaseException | None = None
    batch: CommitBatch = field(default_factory=CommitBatch)


def batch_from_changes(
    changes: Changes,
    responses: Mapping[str, bytes],
    meta: Mapping[str, str] | None = None,
) -> CommitBatch:
    """The rows to write for one engine call; `responses` holds the JSON answer given
    for each new message."""
    return CommitBatch(
        conversations=dict(changes.conversations),
        agents=dict(changes.agents),
        messages=[(o, responses.get(o.message_id, b"{}")) for o in changes.messages],
        events=event_rows_for(changes.events, changes.messages, changes.conversations),
        meta=dict(meta or {}),
    )


def merge(batches: list[CommitBatch]) -> CommitBatch:
    """Several batches as one, later snapshots of a record replacing earlier ones."""
    merged = CommitBatch()
    for b in batches:
        merged.conversations.update(b.conversations)
        merged.agents.update(b.agents)
        merged.messages.extend(b.messages)
        merged.events.extend(b.events)
        merged.meta.update(b.meta)
    return merged


class GroupCommitter:
    """Commits a group of tickets in one transaction, then reports the group done."""

    def __init__(
        self,
        store: DurableStore,
        deliver: Callable[
            [list[Ticket[Any]], CommitBatch, list[StoredEvent], BaseException | None], None
        ],
        metrics: Metrics,
        on_durable: Callable[[CommitBatch], None] | None = None,
    ) -> None:
        self._store = store
        self._deliver = deliver
        self._metrics = metrics
        self._on_durable = on_durable
        self.failure: BaseException | None = None

    def commit(self, group: list[Ticket[Any]]) -> None:
        batch = merge([t.batch for t in group])
        stored: list[StoredEvent] = []
        error: BaseException | None = self.failure
        if error is None and not batch.is_empty():
            try:
                with self._metrics.commit_seconds.time():
                    stored = self._store.commit(batch)
                self._metrics.observe_commit(group_size=len(group), batch=batch)
            except Exception as exc:
                # memory is now ahead of disk: refuse all further changes (restart restores)
                log.exception("commit failed; the service stops accepting changes")
                self.failure = error = exc
        if error is None and self._on_durable is not None and batch.messages:
            self._on_durable(batch)
        self._deliver(group, batch, stored, error)


class Runtime:
    """Runs engine calls one at a time and answers once their effects are durable."""

    def __init__(
        self,
        engine: Engine,
        store: DurableStore,
        metrics: Metrics,
        *,
        on_committed: Callable[[list[StoredEvent], CommitBatch], None],
        on_durable: Callable[[CommitBatch], None] | None = None,
        max_batch: int = 1024,
    ) -> None:
        """`on_committed` runs on the event loop after each commit; `on_durable` runs on
        the engine thread right after it, before the engine runs another job."""
        self._engine = engine
        self._metrics = metrics
        self._on_committed = on_committed
        self._max_batch = max_batch
        self._jobs: queue.SimpleQueue[Callable[[], Ticket[Any] | None] | None] = queue.SimpleQueue()
        self._engine_thread = threading.Thread(
            target=self._run_jobs, name="tidal-engine", daemon=True
        )
        self._committer = GroupCommitter(store, self._deliver, metrics, on_durable)
        self._loop: asyncio.AbstractEventLoop | None = None
        #: set when committed changes hold a timer due before `sleeping_until`
        self.changed = asyncio.Event()
        #: when the timer task means to wake next (None: not sleeping on a deadline)
        self.sleeping_until: datetime | None = None

    @property
    def failure(self) -> BaseException | None:
        return self._committer.failure

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._engine_thread.start()

    def stop(self) -> None:
        """Finish every queued job and commit, then end the engine thread."""
        self._jobs.put(None)
        self._engine_thread.join()

    def _run_jobs(self) -> None:
        # Group commit on the engine thread: run jobs while more are queued, and commit
        # everything they changed as soon as the queue runs dry (or the group is full).
        # Requests that arrive during a commit queue up and share the next one. A
        # separate writer thread would overlap commits with engine work, but every
        # thread shares one GIL: the writer spent most of each commit waiting for it.
        pending: list[Ticket[Any]] = []
        while True:
            if pending and (len(pending) >= self._max_batch or self._jobs.empty()):
                self._committer.commit(pending)
                pending = []
            job = self._jobs.get()
            if job is None:
                break
            ticket = job()
            if ticket is not None:
                pending.append(ticket)
        if pending:
            self._committer.commit(pending)

    async def execute(
        self,
        work: Callable[[Engine], T],
        *,
        responses: Callable[[T], Mapping[str, bytes]] | None = None,
        meta: Callable[[T], Mapping[str, str]] | None = None,
    ) -> T:
        """Run `work(engine)` on the engine thread; return once its changes committed.

        `responses` gives the HTTP response (JSON) to store with each new message outcome;
        `meta` gives key/values to store with the changes. An exception raised by
        `work` is re-raised here, after whatever it changed before raising committed.
        """
        if self._committer.failure is not None:
            raise Problem("unavailable", "a database write failed; restart the service")
        loop = asyncio.get_running_loop()
        ticket: Ticket[T] = Ticket(loop.create_future())

        def job() -> Ticket[T]:
            try:
                ticket.value = work(self._engine)
            except BaseException as exc:  # delivered to the awaiting request
                ticket.error = exc
            try:
                changes = self._engine.drain_changes()
                ticket.batch = batch_from_changes(
                    changes,
                    responses(ticket.value) if responses and ticket.error is None else {},
                    meta(ticket.value) if meta and ticket.error is None else None,
                )
            except BaseException as exc:
                ticket.error = exc
            return ticket

        self._jobs.put(job)
        return await ticket.future

    async def compute(self, work: Callable[[], T]) -> T:
        """Run a pure computation (no engine state) on the engine thread, off the loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def settle(value: T | None, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)  # type: ignore[arg-type]

        def job() -> None:
            try:
                value = work()
            except Exception as exc:
                loop.call_soon_threadsafe(settle, None, exc)
            else:
                loop.call_soon_threadsafe(settle, value, None)

        self._jobs.put(job)
        return await future

    def _deliver(
        self,
        group: list[Ticket[Any]],
        batch: CommitBatch,
        stored: list[StoredEvent],
        error: BaseException | None,
    ) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
            self._loop.call_soon_threadsafe(self._resolve, group, batch, stored, error)

    def _resolve(
        self,
        group: list[Ticket[Any]],
        batch: CommitBatch,
        stored: list[StoredEvent],
        error: BaseException | None,
    ) -> None:
        if error is None and not batch.is_empty():
            self._on_committed(stored, batch)
            earliest = min(
                (due for c in batch.conversations.values() for due in c.timers.values()),
                default=None,
            )
            if earliest is not None and (
                self.sleeping_until is None or earliest < self.sleeping_until
            ):
                self.changed.set()
        for ticket in group:
            if ticket.future.done():  # the client went away; the work is done anyway
                continue
            if error is not None:
                ticket.future.set_exception(
                    Problem("unavailable", "a database write failed; restart the service")
                )
            elif ticket.error is not None:
                ticket.future.set_exception(ticket.error)
            else:
                ticket.future.set_result(ticket.value)
