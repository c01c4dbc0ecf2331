"""Memory equals the database: the running engine's state against the state a restart
would restore from the store.

The running engine is asked on its own thread (`Runtime.execute`, like any request,
so every change acknowledged before is committed when it answers); the store is read
as `tidal.service.running.bootstrap.start_services` reads it on a restart. Records are compared as
the JSON the store keeps of them, so a field the database cannot hold exactly (a time
zone, a set's order) shows up as a difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.service.conftest import Api
from tidal.engine.core.engine import Engine
from tidal.service.http.app import TidalApp
from tidal.service.persistence.codec import to_jsonable
from tidal.service.persistence.store import DurableStore


@dataclass(frozen=True)
class EngineState:
    conversations: dict[str, Any]
    agents: dict[str, Any]


def _state(conversations: list[Any], agents: list[Any]) -> EngineState:
    return EngineState(
        {c.id: to_jsonable(c) for c in conversations},
        {a.id: to_jsonable(a) for a in agents},
    )


def running_state(api: Api) -> EngineState:
    """The state of the engine serving `api`, once what it acknowledged is committed."""
    assert api.server is not None and isinstance(api.app, TidalApp)
    assert api.app.running is not None, "the app is not the writer"
    runtime = api.app.running.services.runtime

    def read(engine: Engine) -> EngineState:
        return _state(engine.conversations(), engine.agents())

    return api.server.call(runtime.execute(read))


def stored_state(db_url: str) -> EngineState:
    """The state a restart would restore from the database."""
    store = DurableStore(db_url)
    try:
        restored = store.load_state(recent_outcomes=0)
    finally:
        store.close()
    return _state(restored.conversations, restored.agents)


def stored_message_ids(db_url: str) -> set[str]:
    store = DurableStore(db_url)
    try:
        return set(store.message_ids())
    finally:
        store.close()


def differences(api: Api) -> list[str]:
    """What the running engine holds that the database does not, or the other way."""
    memory, stored = running_state(api), stored_state(api.db_url)
    found = []
    for kind in ("conversations", "agents"):
        mine, theirs = getattr(memory, kind), getattr(stored, kind)
        for key in sorted(mine.keys() | theirs.keys()):
            if mine.get(key) != theirs.get(key):
                found.append(f"{kind}[{key!r}]: memory {mine.get(key)} != stored {theirs.get(key)}")
    return found
