"""The service's side of the classifier helper process (`tidal.service.classifier.worker`).

The helper only ever saves the service work; it decides nothing on its own:

- It proves on start that it loaded the same files as the service's rule generation
  (`ActiveRules.fingerprint`); on a mismatch it is stopped and not used.
- It serves one rule generation: `tidal.service.handling.classification` asks it only while that
  generation is active, and the engine thread classifies again, in-process, a message
  whose rules were swapped while the helper was answering.
- If it dies, stops answering for `STALL_SECONDS` while answers are owed, or answers
  anything malformed, it is killed and every pending and later message is classified
  in-process, until `tidal.service.classifier.upkeep` (or a rules reload) starts a new helper.

Texts asked for during one event-loop iteration go to the helper in one frame, so a
busy service pays one pipe write and one read per batch rather than per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections import deque
from pathlib import Path
from typing import Any

import orjson

from tidal.engine.core.intents import Classification, Direction
from tidal.service.classifier.worker import LENGTH, decode, frame
from tidal.service.metrics import Metrics
from tidal.service.running.rules import ActiveRules

log = logging.getLogger("tidal.classify")

#: seconds the helper may take to load rules and models before it is given up on
START_SECONDS = 120.0
#: seconds without any answer while answers are owed after which the helper is taken for
#: stuck; a frame of 64 texts of 64 KiB each takes about 2 s
STALL_SECONDS = 10.0
#: where the `service` and `engine` packages live: the helper runs the same code
_CODE_ROOT = Path(__file__).resolve().parents[2]

_Pending = list["asyncio.Future[Classification | None]"]


class ClassifierProcess:
    """One running helper process for one rule generation (used on the event loop)."""

    def __init__(
        self, generation: int, process: asyncio.subprocess.Process, metrics: Metrics
    ) -> None:
        assert process.stdin is not None and process.stdout is not None
        self.generation = generation
        self.pid = process.pid
        self.alive = True
        self._process = process
        self._writer = process.stdin
        self._reader = process.stdout
        self._metrics = metrics
        self._loop = asyncio.get_running_loop()
        self._queued: list[tuple[str, Direction]] = []
        self._queued_futures: _Pending = []
        self._in_flight: deque[_Pending] = deque()
        self._last_progress = self._loop.time()
        self._answers = self._loop.create_task(self._read_answers(), name="tidal-classify-read")
        self._watchdog = self._loop.create_task(self._watch(), name="tidal-classify-watch")
        metrics.classifier_process_up.set(1)
        metrics.classifier_process_starts.inc()

    @classmethod
    async def start(cls, rules: ActiveRules, metrics: Metrics) -> ClassifierProcess | None:
        """A ready helper for `rules`, or None (logged): messages are then classified
        in-process."""
        if rules.fingerprint is None:
            log.warning("no classifier process: the rule files changed while they were loaded")
            return None
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tidal.service.classifier.worker",
            str(rules.rules_dir.resolve()),
            str(rules.models_dir.resolve()),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=_CODE_ROOT,
        )
        assert process.stdout is not None
        try:
            ready: Any = await asyncio.wait_for(_read_frame(process.stdout), START_SECONDS)
        except (TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            ready = {"error": repr(exc)}
        except BaseException:  # cancelled: the service is not starting after all
            _kill(process)
            await process.wait()
            raise
        if not isinstance(ready, dict) or ready.get("fingerprint") != rules.fingerprint:
            reason = ready.get("error") if isinstance(ready, dict) else None
            log.warning(
                "classifier process not used; messages are classified in-process",
                extra={"reason": reason or "it loaded other files than the service"},
            )
            await _end(process)
            return None
        log.info(
            "classifier process ready",
            extra={"pid": process.pid, "generation": rules.generation},
        )
        return cls(rules.generation, process, metrics)

    @property
    def waiting(self) -> int:
        """How many texts wait for the helper's answer."""
        return len(self._queued) + sum(len(futures) for futures in self._in_flight)

    async def classify(self, text: str, direction: Direction) -> Classification | None:
        """The helper's classification of `text`, or None when it cannot give one."""
        if not self.alive:
            return None
        future: asyncio.Future[Classification | None] = self._loop.create_future()
        if not self._queued:  # the first of this loop iteration: send them all at its end
            self._loop.call_soon(self._send)
        self._queued.append((text, direction))
        self._queued_futures.append(future)
        return await future

    def _send(self) -> None:
        texts, futures = self._queued, self._queued_futures
        self._queued, self._queued_futures = [], []
        if not self.alive:
            _settle(futures)
            return
        if not self._in_flight:
            self._last_progress = self._loop.time()
        self._in_flight.append(futures)
        try:
            self._writer.write(frame(texts))
        except (OSError, RuntimeError) as exc:
            self._fail(f"the classifier process stopped reading: {exc!r}")

    async def _read_answers(self) -> None:
        try:
            while True:
                answers = await _read_frame(self._reader)
                futures = self._in_flight[0]  # IndexError: an answer nobody asked for
                if not isinstance(answers, list) or len(answers) != len(futures):
                    raise ValueError(f"{len(futures)} answers expected")
                # all decoded before any is used: a frame is trusted whole or not at all
                decoded = [None if answer is None else decode(answer) for answer in answers]
                self._in_flight.popleft()
                self._last_progress = self._loop.time()
                for future, result in zip(futures, decoded, strict=True):
                    if result is None:
                        value = None
                    else:
                        value, seconds = result
                        self._metrics.classify_seconds.observe(seconds)
                    if not future.done():
                        future.set_result(value)
                self._metrics.classifier_process_texts.inc(len(futures))
        except (asyncio.IncompleteReadError, OSError, ValueError, IndexError) as exc:
            self._fail(f"the classifier process failed: {exc!r}")

    async def _watch(self) -> None:
        while self.alive:
            await asyncio.sleep(1.0)
            if self._in_flight and self._loop.time() - self._last_progress > STALL_SECONDS:
                self._fail(f"the classifier process gave no answer for {STALL_SECONDS:.0f} s")

    def _fail(self, reason: str) -> None:
        if not self.alive:
            return  # closing, or already given up on
        log.error(
            reason + "; messages are classified in-process until a new one is ready",
            extra={"pid": self.pid, "generation": self.generation},
        )
        self.alive = False
        self._metrics.classifier_process_up.set(0)
        self._metrics.classifier_process_failures.inc()
        _kill(self._process)  # stuck or confused: it must not answer anyone again
        self._settle_all()

    def _settle_all(self) -> None:
        while self._in_flight:
            _settle(self._in_flight.popleft())
        _settle(self._queued_futures)

    async def close(self, grace_seconds: float = 5.0) -> None:
        """Stop the helper: it answers what it was sent, then sees its stdin close; it
        is killed if it has not ended after `grace_seconds`."""
        if self.alive:
            self.alive = False
            self._metrics.classifier_process_up.set(0)
        self._watchdog.cancel()
        await _end(self._process, grace_seconds)
        self._answers.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._answers
        with contextlib.suppress(asyncio.CancelledError):
            await self._watchdog
        self._settle_all()


def _settle(futures: _Pending) -> None:
    for future in futures:
        if not future.done():
            future.set_result(None)


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    (length,) = LENGTH.unpack(await reader.readexactly(LENGTH.size))
    return orjson.loads(await reader.readexactly(length))


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.kill()


async def _end(process: asyncio.subprocess.Process, grace_seconds: float = 5.0) -> None:
    """Close the helper's stdin (it exits at its end) and wait; kill it if it lingers."""
    if process.stdin is not None:
        with contextlib.suppress(OSError, RuntimeError):
            process.stdin.close()
    try:
        await asyncio.wait_for(process.wait(), grace_seconds)
    except TimeoutError:
        _kill(process)
        await process.wait()
