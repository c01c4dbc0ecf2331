"""How a running service starts: restore, then serve.

`start_services` opens the database, restores every conversation and agent, and what
the engine needs to recognise a message it handled before
(`tidal.service.persistence.handled_messages`), into a fresh engine (which fires overdue
timers in deadline order), commits what that changed, registers what happens after each
commit (`tidal.service.running.after_commit`) and returns the parts the API needs
(`tidal.service.running.services`). Blocking: run it off the loop.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable

from tidal.engine.core.clock import Clock
from tidal.engine.core.engine import Engine
from tidal.engine.core.model import MessageOutcome
from tidal.service.auth import Authenticator
from tidal.service.config import Settings
from tidal.service.metrics import Metrics
from tidal.service.persistence.handled_messages import RECENT_OUTCOMES, HandledMessages
from tidal.service.persistence.store import DurableStore, RestoredState
from tidal.service.running.after_commit import after_commit
from tidal.service.running.clock import make_clock
from tidal.service.running.live_events import EventHub
from tidal.service.running.rules import ActiveRules, load_active_rules
from tidal.service.running.runtime import Runtime, batch_from_changes
from tidal.service.running.services import Services
from tidal.service.running.write_faults import StoreRewind

log = logging.getLogger("tidal.service")


def restore_engine(
    state: RestoredState,
    rules: ActiveRules,
    clock: Clock,
    *,
    read_outcome: Callable[[str], MessageOutcome | None],
    message_ids: Iterable[str] = (),
    recent: int = RECENT_OUTCOMES,
) -> tuple[Engine, HandledMessages]:
    """An engine holding everything the database holds, and its store.

    `message_ids` are the ids of every stored message; `read_outcome` reads one
    message's outcome back from the database (see `tidal.service.persistence.handled_messages`).
    """
    memory = HandledMessages(read_outcome, recent=recent, expected_ids=state.message_count)
    for agent in state.agents:
        memory.put_agent(agent)
    for conversation in state.conversations:
        memory.put_conversation(conversation)
    for message_id in message_ids:
        memory.restore_id(message_id)
    for outcome in state.recent_outcomes:
        memory.restore(outcome)
    engine = Engine(rules.engine_rules.routing, rules.engine_rules.workflow, clock, memory)
    return engine, memory


def start_services(
    settings: Settings, metrics: Metrics, rules: ActiveRules | None = None
) -> Services:
    """Open, restore and wire everything (blocking); `rules` if already loaded."""

    store = DurableStore(settings.db_url)
    store.create_schema()
    store.claim_writer()
    store.advertise_writer(settings.advertise_url)
    state = store.load_state(recent_outcomes=settings.recent_outcomes)
    clock, manual = make_clock(settings, state)
    if rules is None:
        rules = load_active_rules(settings.rules_dir, settings.models_dir, generation=1)
    engine, memory = restore_engine(
        state,
        rules,
        clock,
        read_outcome=store.stored_outcome,
        message_ids=store.message_ids(),
        recent=settings.recent_outcomes,
    )
    hub = EventHub()
    # timers that came due while the service was down fired during the restore
    fired = engine.drain_changes()
    if not fired.is_empty():
        store.commit(batch_from_changes(fired, {}))
    metrics.track(engine.conversations(), engine.agents())
    metrics.watch_handled_messages(memory)
    log.info(
        "restored state",
        extra={
            "conversations": len(state.conversations),
            "agents": len(state.agents),
            "messages": state.message_count,
            "timer_events": len(fired.events),
        },
    )
    # what was restored lives as long as the process: keep it out of collector passes
    gc.freeze()

    subscribers = after_commit(memory, hub, metrics)
    runtime = Runtime(
        engine,
        store,
        metrics,
        rewind=StoreRewind(store, memory, subscribers.rewound),
        on_committed=subscribers.committed,
        on_durable=subscribers.durable,
        max_batch=settings.max_commit_batch,
    )
    return Services(
        settings=settings,
        store=store,
        runtime=runtime,
        hub=hub,
        metrics=metrics,
        auth=Authenticator(store),
        clock=clock,
        manual_clock=manual,
        rules=rules,
        handled_messages=memory,
    )


def stop_services(services: Services, timeout: float | None = None) -> None:
    """Finish queued work (waiting at most `timeout` seconds for it), then close the
    database (blocking)."""
    if services.runtime.stop(timeout):
        services.store.close()
