"""The store and the service on PostgreSQL (127.0.0.1:5432, database `test`, trust auth).

Each test works in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import orjson
import pytest
import sqlalchemy as sa

from engine.core.clock import ManualClock
from engine.core.intents import Classification
from engine.core.model import IncomingMessage
from engine.rulesio.bundle import EngineRules
from service.app import create_app
from service.persistence.store import DurableStore, RestoredState
from service.runtime import batch_from_changes
from service.services import restore_engine
from service.tokens import Role, hash_token
from service.views import message_response
from tests.service.conftest import T0, Api, LiveServer, manual_settings, table_rules

pytestmark = pytest.mark.postgres


def _server_url() -> str:
    for user in ("postgres", getpass.getuser(), "root"):
        url = f"postgresql+psycopg://{user}@127.0.0.1:5432/test"
        try:
            engine = sa.create_engine(url)
            with engine.connect():
                pass
            engine.dispose()
            return url
        except sa.exc.OperationalError:
            continue
    raise RuntimeError("no PostgreSQL role to connect with on 127.0.0.1:5432/test")


@pytest.fixture
def pg_url() -> Iterator[str]:
    base = _server_url()
    schema = f"tidal_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def test_the_store_round_trips_engine_state_on_postgres(
    pg_url: str, engine_rules: EngineRules
) -> None:
    rules = table_rules(engine_rules)
    engine, _ = restore_engine(
        RestoredState([], [], [], {}), rules, ManualClock(T0), read_outcome=lambda _id: None
    )
    engine.upsert_agent("a-1", status="available", preferred_concurrency=2, max_concurrency=3)
    outcome = engine.handle(
        IncomingMessage("m-1", "c-1", "inbound", "my card is blocked", skills=frozenset({"x"})),
        Classification("other", 0.9, "model", model_version="v1"),
    )
    response = message_response(outcome, engine.priority("c-1"))
    store = DurableStore(pg_url)
    try:
        store.create_schema()
        batch = batch_from_changes(engine.drain_changes(), {"m-1": orjson.dumps(response)})
        stored = store.commit(batch)
        assert [e.id for e in stored] == list(range(1, len(stored) + 1))
        token = store.create_token(Role.AGENT, agent_id="a-1")
        state = store.load_state(recent_outcomes=10)
        assert store.stored_response("m-1") == response
        assert store.stored_outcome("m-1") == outcome
        assert store.stored_outcome("m-2") is None
        assert list(store.message_ids()) == ["m-1"]
        assert [e.id for e in store.events_after(1, agent_id="a-1")] == [
            e.id for e in stored[1:] if e.audience == "a-1"
        ]
        principal = store.principal_for(hash_token(token))
        assert principal is not None and principal.agent_id == "a-1"
    finally:
        store.close()
    (conversation,) = state.conversations
    assert conversation == engine.conversation("c-1")
    assert state.agents == engine.agents()
    assert state.recent_outcomes == [outcome]
    assert state.message_count == 1
    # the restored engine continues from exactly there
    again, _ = restore_engine(
        state, rules, ManualClock(T0 + timedelta(minutes=1)), read_outcome=lambda _id: None
    )
    assert again.conversation("c-1") == engine.conversation("c-1")


def test_the_service_runs_on_postgres(pg_url: str, engine_rules: EngineRules, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = manual_settings(tmp_path, db_url=pg_url)
    store = DurableStore(pg_url)
    store.create_schema()
    tokens = {
        "service": store.create_token(Role.SERVICE),
        "supervisor": store.create_token(Role.SUPERVISOR),
    }
    store.close()
    app = create_app(settings, rules=table_rules(engine_rules))
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        api = Api(client, pg_url, tokens)
        api.put_agent("a-1")
        first = api.message("m-1", "c-1", "my card is blocked").json()
        assert first["routing"] == {"agent_id": "a-1", "reason": "least_loaded"}
        assert api.message("m-1", "c-1", "again").json() == {**first, "duplicate": True}
