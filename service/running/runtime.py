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

A commit that fails takes nothing down (`GroupCommitter`, `tidal.service.running.write_faults`):
memory goes back to what the database holds, the requests at fault are answered with a
problem and the others commit; while the database is unreachable every call answers
503, and the engine thread tries it again every `PROBE_SECONDS` until it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from tidal.engine.core.engine import Engine
from tidal.engine.core.model import Changes
from tidal.service.http.problems import Problem
from tidal.service.metrics import Metrics
from tidal.service.persistence.store import CommitBatch, StaleWriter, StoredEvent, event_rows_for
from tidal.service.running.write_faults import (
    PROBE_SECONDS,
    Rewind,
    Touched,
    WriterStore,
    refused,
    stale_writer,
    unavailable,
)

T = TypeVar("T")
log = logging.getLogger("tidal.runtime")


@dataclass(eq=False)
class Ticket(Generic[T]):
    """One job's result waiting for its changes to be committed."""

    future: asyncio.Future[T]
    value: Any = None
    error: BaseException | None = None
    batch: CommitBatch = field(default_factory=CommitBatch)
    #: runs the job (again): after a failed commit its group is run anew, in parts
    run: Callable[[], None] = lambda: None


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
    """Commits a group of tickets in one transaction, then reports the group done.

    A failed commit never wedges the writer (see `tidal.service.running.write_faults`): memory
    is put back to the database's state, then either the database is unreachable (`failure`
    is set until `recover` reaches it) or the group is run again and committed in
    halves until the requests at fault are alone; those are answered with a problem.
    Runs on the engine thread only.
    """

    def __init__(
        self,
        store: WriterStore,
        deliver: Callable[
            [list[Ticket[Any]], CommitBatch, list[StoredEvent], BaseException | None], None
        ],
        metrics: Metrics,
        rewind: Callable[[Touched], bool],
        on_durable: Callable[[CommitBatch], None] | None = None,
    ) -> None:
        """`rewind(touched)` puts memory back for the touched records and commits what
        rebuilding it changed; False when the database could not be read."""
        self._store = store
        self._deliver = deliver
        self._metrics = metrics
        self._rewind = rewind
        self._on_durable = on_durable
        #: why changes are refused now (the database is unreachable, or another service
        #: became its writer); None while commits work
        self.failure: BaseException | None = None
        #: records changed in memory but not in the database while `failure` is set
        self.touched = Touched()

    def commit(self, group: list[Ticket[Any]]) -> None:
        error = self._try(group)
        if error is None:
            return
        log.error("commit failed; looking for the requests at fault", exc_info=error)
        failed, alone = group, False
        waiting: deque[list[Ticket[Any]]] = deque()  # parts to run again, in order
        while True:
            # undo in memory what the failed part did
            self.touched.add(merge([t.batch for t in failed]))
            if isinstance(error, StaleWriter) or not self._rewind(self.touched):
                self._fail(error, failed + [t for part in waiting for t in part])
                return
            self.touched.clear()
            if alone:  # it failed in its group and again on its own
                self._refuse(failed[0], error)
            elif len(failed) == 1:  # once more on its own: the failure may have passed
                waiting.appendleft(failed)
            else:
                half = len(failed) // 2
                waiting.extendleft([failed[half:], failed[:half]])
            while waiting:
                part = waiting.popleft()
                for ticket in part:
                    ticket.run()
                error = self._try(part)
                if error is not None:
                    failed, alone = part, len(part) == 1
                    break
            else:
                return

    def _try(self, group: list[Ticket[Any]]) -> BaseException | None:
        """Commit the group's changes and answer it; the error if the commit failed."""
        batch = merge([t.batch for t in group])
        stored: list[StoredEvent] = []
        if not batch.is_empty():
            try:
                with self._metrics.commit_seconds.time():
                    stored = self._store.commit(batch)
            except Exception as exc:
                return exc
            self._metrics.observe_commit(group_size=len(group), batch=batch)
        if self._on_durable is not None and batch.messages:
            self._on_durable(batch)
        self._deliver(group, batch, stored, None)
        return None

    def _refuse(self, ticket: Ticket[Any], error: BaseException) -> None:
        """A request whose changes the database refused alone: they were undone."""
        log.error(
            "the database refused one request's changes; it is answered with a problem "
            "and the service goes on",
            exc_info=error,
        )
        ticket.error = refused(error)
        self._deliver([ticket], CommitBatch(), [], None)

    def _fail(self, error: BaseException, waiting: list[Ticket[Any]]) -> None:
        if self.failure is None:
            log.error(
                "the database cannot be written; changes are refused until it can",
                exc_info=error,
            )
        self.failure = error
        self._deliver(waiting, CommitBatch(), [], error)

    def recover(self) -> bool:
        """Try to reach the database again after a failure; True once it answers."""
        if self.failure is None:
            return True
        if isinstance(self.failure, StaleWriter) or not self._rewind(self.touched):
            return False
        log.warning("the database answers again; the service accepts changes")
        self.touched.clear()
        self.failure = None
        return True


class Runtime:
    """Runs engine calls one at a time and answers once their effects are durable."""

    def __init__(
        self,
        engine: Engine,
        store: WriterStore,
        metrics: Metrics,
        *,
        rewind: Rewind,
        on_committed: Callable[[list[StoredEvent], CommitBatch], None],
        on_durable: Callable[[CommitBatch], None] | None = None,
        max_batch: int = 1024,
        probe_seconds: float = PROBE_SECONDS,
    ) -> None:
        """`on_committed` runs on the event loop after each commit; `on_durable` runs on
        the engine thread right after it, before the engine runs another job. `rewind`
        rebuilds the engine from the database after a failed commit (see
        `tidal.service.running.write_faults`)."""
        self._engine = engine
        self._store = store
        self._metrics = metrics
        self._rewinder = rewind
        self._on_committed = on_committed
        self._max_batch = max_batch
        self._probe_seconds = probe_seconds
        self._jobs: queue.SimpleQueue[Callable[[], Ticket[Any] | None] | None] = queue.SimpleQueue()
        self._engine_thread = threading.Thread(
            target=self._run_jobs, name="tidal-engine", daemon=True
        )
        self._committer = GroupCommitter(store, self._deliver, metrics, self._rewind, on_durable)
        self._loop: asyncio.AbstractEventLoop | None = None
        #: set when committed changes hold a timer due before `sleeping_until`
        self.changed = asyncio.Event()
        #: when the timer task means to wake next (None: not sleeping on a deadline)
        self.sleeping_until: datetime | None = None

    @property
    def failure(self) -> BaseException | None:
        """Why changes are refused now (the database is unreachable), or None."""
        return self._committer.failure

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._engine_thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Finish every queued job and commit, then end the engine thread. With a
        `timeout`, give up waiting after it (False): whatever is still running was not
        answered, and the thread ends with the process."""
        self._jobs.put(None)
        self._engine_thread.join(timeout)
        if self._engine_thread.is_alive():
            log.warning("the engine thread is still busy; stopping without it")
            return False
        return True

    def _run_jobs(self) -> None:
        # Group commit on the engine thread: run jobs while more are queued, and commit
        # everything they changed as soon as the queue runs dry (or the group is full).
        # Requests that arrive during a commit queue up and share the next one. A
        # separate writer thread would overlap commits with engine work, but every
        # thread shares one GIL: the writer spent most of each commit waiting for it.
        pending: list[Ticket[Any]] = []
        next_probe = 0.0
        while True:
            if pending and (len(pending) >= self._max_batch or self._jobs.empty()):
                self._committer.commit(pending)
                pending = []
            timeout = None
            if self._committer.failure is not None:
                # the database was unreachable: try it again now and then
                now = time.monotonic()
                if now >= next_probe:
                    if self._committer.recover():
                        continue
                    next_probe = now + self._probe_seconds
                timeout = max(0.0, next_probe - now)
            try:
                job = self._jobs.get(timeout=timeout)
            except queue.Empty:
                continue
            if job is None:
                break
            ticket = job()
            if ticket is not None:
                pending.append(ticket)
        if pending:
            self._committer.commit(pending)

    def _rewind(self, touched: Touched) -> bool:
        """Put memory back to the database's state for `touched` (engine thread);
        False when the database cannot be read or written."""
        try:
            fresh = self._rewinder(self._engine, touched)
        except Exception as exc:
            log.warning("cannot read the database to undo a failed commit: %r", exc)
            return False
        self._engine = fresh
        # rebuilding fires timers that came due and hands out queued work, as a restart
        changes = fresh.drain_changes()
        if not changes.is_empty():
            batch = batch_from_changes(changes, {})
            try:
                stored = self._store.commit(batch)
            except Exception as exc:
                log.warning("cannot commit what rebuilding memory changed: %r", exc)
                touched.add(batch)
                return False
            self._deliver([], batch, stored, None)
        if self._loop is not None:  # the timer task reads the next deadline again
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self.changed.set)
        return True

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
        failure = self._committer.failure
        if failure is not None:
            raise _refusal(failure)
        loop = asyncio.get_running_loop()
        ticket: Ticket[T] = Ticket(loop.create_future())

        def run() -> None:
            ticket.value, ticket.error, ticket.batch = None, None, CommitBatch()
            failure = self._committer.failure
            if failure is not None:  # queued before the database became unreachable
                ticket.error = _refusal(failure)
                return
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

        def job() -> Ticket[T]:
            run()
            return ticket

        ticket.run = run
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
                ticket.future.set_exception(_refusal(error))
            elif ticket.error is not None:
                ticket.future.set_exception(ticket.error)
            else:
                ticket.future.set_result(ticket.value)


def _refusal(failure: BaseException) -> Problem:
    """The answer while changes are refused for `failure`."""
    return stale_writer() if isinstance(failure, StaleWriter) else unavailable()
