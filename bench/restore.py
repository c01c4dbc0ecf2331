"""Restart cost with a long message history: time and memory to restore the engine.

    .venv/bin/python -m bench.restore [--messages 100000]

Builds a temporary SQLite database holding `--messages` messages (real engine outcomes
and responses, committed in batches as the service commits them), then restores from it
twice in the same process:

- Tidal: what `tidal serve` does on start (`load_state` + `restore_engine`): every
  conversation and agent, the latest `recent_outcomes` outcomes, and a Bloom filter of
  every message id (`service/persistence/handled_messages.py`);
- baseline: every message's outcome decoded and kept in memory, which is what the
  service did before the filter, and what any store that keeps all outcomes does.

Memory is what the restored state retains (tracemalloc, after a collection). Also timed:
the duplicate check for a new message id, which the engine runs on every message. The
last line is one JSON object for scripts.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

import orjson  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from tidal.engine.core.clock import ManualClock  # noqa: E402
from tidal.engine.core.intents import Alternative, Classification  # noqa: E402
from tidal.engine.core.model import IncomingMessage, MessageOutcome  # noqa: E402
from tidal.engine.rulesio.bundle import load_engine_rules  # noqa: E402
from tidal.service.config import sqlite_url  # noqa: E402
from tidal.service.persistence import schema  # noqa: E402
from tidal.service.persistence.codec import loads  # noqa: E402
from tidal.service.persistence.handled_messages import RECENT_OUTCOMES  # noqa: E402
from tidal.service.persistence.store import DurableStore, RestoredState  # noqa: E402
from tidal.service.running.bootstrap import restore_engine  # noqa: E402
from tidal.service.running.rules import ActiveRules  # noqa: E402
from tidal.service.running.runtime import batch_from_changes  # noqa: E402
from tidal.service.views import message_response  # noqa: E402

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TEXTS = (
    "Hi, my card was declined at the supermarket and I need it working today",
    "thanks!",
    "Also, can you change the address on my account to 12 Harbour Street?",
    "ok",
)


class _FixedClassifier:
    version = "bench-1"

    def classify(self, text: str, direction: str) -> Classification:
        return Classification(
            "other",
            0.91,
            "model",
            model_version=self.version,
            alternatives=(Alternative("gratitude", 0.05),),
        )


def _rules() -> ActiveRules:
    rules_dir = ROOT / "rules"
    return ActiveRules(
        1, _FixedClassifier(), load_engine_rules(rules_dir), rules_dir, ROOT / "models"
    )


def build_history(store: DurableStore, messages: int) -> None:
    """`messages` customer messages over conversations of four, 100 agents."""
    rules = _rules()
    engine, memory = restore_engine(
        RestoredState([], [], [], {}), rules, ManualClock(T0), read_outcome=lambda _id: None
    )
    for n in range(100):
        engine.upsert_agent(
            f"a-{n}", status="available", preferred_concurrency=40, max_concurrency=50
        )
    store.commit(batch_from_changes(engine.drain_changes(), {}))
    classification = _FixedClassifier().classify("", "inbound")
    responses: dict[str, bytes] = {}
    for n in range(messages):
        message_id = f"msg-{n:09d}"
        conversation = f"conv-{n // 4}"
        outcome = engine.handle(
            IncomingMessage(message_id, conversation, "inbound", TEXTS[n % 4]), classification
        )
        responses[message_id] = orjson.dumps(message_response(outcome, None))
        if n % 4 == 3:  # the conversation ends: its slot frees for the next one
            engine.close_conversation(conversation, "resolved")
        if len(responses) == 1000 or n == messages - 1:
            changes = engine.drain_changes()
            store.commit(batch_from_changes(changes, responses))
            memory.confirm(responses)
            responses = {}


def measured(restore: Callable[[], Any]) -> tuple[Any, float, float]:
    """What `restore` returns, its seconds, and the MB it retains: timed in one run and
    weighed in another (tracing every allocation slows a run down several times)."""
    gc.collect()
    started = time.perf_counter()
    restore()
    seconds = time.perf_counter() - started
    gc.collect()
    tracemalloc.start()
    kept = restore()
    gc.collect()
    retained, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return kept, seconds, retained / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args()
    if args.messages < 1:
        parser.error("--messages must be at least 1")

    with tempfile.TemporaryDirectory() as scratch:
        store = DurableStore(sqlite_url(Path(scratch) / "tidal.db"))
        store.create_schema()
        started = time.perf_counter()
        build_history(store, args.messages)
        print(
            f"history: {args.messages:,} messages written in {time.perf_counter() - started:.1f} s"
        )
        rules = _rules()

        def tidal() -> Any:
            state = store.load_state(recent_outcomes=RECENT_OUTCOMES)
            return restore_engine(
                state,
                rules,
                ManualClock(T0),
                read_outcome=store.stored_outcome,
                message_ids=store.message_ids(),
            )

        def every_outcome() -> Any:
            state = store.load_state(recent_outcomes=0)
            with store.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(schema.messages.c.outcome).order_by(schema.messages.c.seq)
                )
                outcomes = {
                    o.message_id: o for o in (loads(MessageOutcome, r.outcome) for r in rows)
                }
            return state, outcomes

        (_engine, memory), seconds, megabytes = measured(tidal)
        (_state, outcomes), base_seconds, base_megabytes = measured(every_outcome)

        fresh = [f"new-{n}" for n in range(100_000)]
        started = time.perf_counter()
        for message_id in fresh:
            memory.get_outcome(message_id)
        check_ns = 1e9 * (time.perf_counter() - started) / len(fresh)
        started = time.perf_counter()
        for message_id in fresh:
            outcomes.get(message_id)
        base_check_ns = 1e9 * (time.perf_counter() - started) / len(fresh)
        store.close()

    print(
        f"Tidal:    restored in {seconds:.2f} s, retains {megabytes:.1f} MB "
        f"({memory.outcomes_in_memory:,} outcomes in memory, Bloom filter "
        f"{memory.filter_bytes / 1e6:.1f} MB); new-id check {check_ns:.0f} ns "
        f"({memory.false_positives} of {len(fresh):,} new ids read from the database)"
    )
    print(
        f"baseline: restored in {base_seconds:.2f} s, retains {base_megabytes:.1f} MB "
        f"(every outcome); new-id check {base_check_ns:.0f} ns"
    )
    print(
        f"ratio: {seconds / base_seconds:.3f} of the time, "
        f"{megabytes / base_megabytes:.3f} of the memory"
    )
    print(
        json.dumps(
            {
                "bench": "restore",
                "messages": args.messages,
                "restore_seconds": round(seconds, 3),
                "retained_mb": round(megabytes, 1),
                "baseline_restore_seconds": round(base_seconds, 3),
                "baseline_retained_mb": round(base_megabytes, 1),
                "time_ratio": round(seconds / base_seconds, 3),
                "memory_ratio": round(megabytes / base_megabytes, 3),
                "new_id_check_ns": round(check_ns),
                "baseline_new_id_check_ns": round(base_check_ns),
            }
        )
    )


if __name__ == "__main__":
    main()
