"""Restarting the service: state, idempotency and event ids survive; timers that came
due while it was down fire on start, in deadline order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from tests.service.conftest import T0, Api, LiveServer, issue_tokens, manual_settings, table_rules
from tidal.engine.rulesio.bundle import EngineRules
from tidal.service.http.app import create_app
from tidal.service.persistence import schema
from tidal.service.persistence.store import DurableStore


def _run(
    tmp_path: Path,
    engine_rules: EngineRules,
    tokens: dict[str, str] | None = None,
    **overrides: object,
) -> tuple[LiveServer, Api]:
    settings = manual_settings(tmp_path, **overrides)
    tokens = tokens or issue_tokens(settings.db_url)
    server = LiveServer(create_app(settings, rules=table_rules(engine_rules)))
    return server, Api(httpx.Client(base_url=server.url, timeout=30), settings.db_url, tokens)


def test_a_restart_keeps_state_and_fires_timers_that_came_due_meanwhile(
    tmp_path: Path, engine_rules: EngineRules
) -> None:
    server, api = _run(tmp_path, engine_rules)
    with server, api.client:
        api.put_agent("a-1", preferred_concurrency=2, max_concurrency=3)
        first = api.message("m-1", "c-1", "my card is blocked").json()
        api.message("m-2", "c-1", "Unblocked it.", direction="outbound", agent_id="a-1")
        api.message("m-3", "c-2", "my parcel is late")
        before = api.client.get("/v1/agents/a-1", headers=api.headers("supervisor")).json()
    assert before["load"] == 2
    store = DurableStore(api.db_url)
    last_event_before = store.events_after(0)[-1].id
    store.close()

    # down for two hours: c-1's customer stayed silent past the 30 minute timeout
    server, api = _run(tmp_path, engine_rules, api.tokens, clock_start=T0 + timedelta(hours=2))
    with server, api.client:
        c1 = api.client.get("/v1/conversations/c-1", headers=api.headers("service")).json()
        assert (c1["state"], c1["inactive_reason"]) == ("inactive", "customer_silent")
        c2 = api.client.get("/v1/conversations/c-2", headers=api.headers("service")).json()
        assert (c2["state"], c2["agent_id"]) == ("assigned", "a-1")
        agent = api.client.get("/v1/agents/a-1", headers=api.headers("supervisor")).json()
        assert agent["load"] == 1
        again = api.message("m-1", "c-1", "my card is blocked")
        assert again.json() == {**first, "duplicate": True}
        fresh = api.message("m-4", "c-3", "hello, new question")
        assert fresh.json()["duplicate"] is False
    store = DurableStore(api.db_url)
    after = store.events_after(last_event_before)
    store.close()
    assert after and after[0].id == last_event_before + 1
    assert "inactivated" in {e.kind for e in after}


def test_the_manual_clock_resumes_where_it_stopped(
    tmp_path: Path, engine_rules: EngineRules
) -> None:
    server, api = _run(tmp_path, engine_rules)
    with server, api.client:
        api.set_clock(T0 + timedelta(minutes=45))
    server, api = _run(tmp_path, engine_rules, api.tokens)
    with server, api.client:
        health = api.client.get("/healthz").json()
    assert health["clock"] == "manual"
    assert health["now"].startswith("2026-11-25T10:45:00")


def test_every_table_is_created_on_a_new_database(tmp_path: Path) -> None:
    settings = manual_settings(tmp_path)
    store = DurableStore(settings.db_url)
    store.create_schema()
    names = set(sa_inspect_tables(store))
    store.close()
    assert {"conversations", "agents", "messages", "events", "timers", "tokens", "meta"} <= names
    assert set(schema.metadata.tables) <= names


def sa_inspect_tables(store: DurableStore) -> list[str]:
    import sqlalchemy as sa

    return sa.inspect(store.engine).get_table_names()
