"""Duplicates are recognised for as long as the database holds a message, while memory
keeps only recent outcomes and a Bloom filter of ids."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.service.conftest import T0, Api, LiveServer, issue_tokens, manual_settings, table_rules
from tidal.engine.core.clock import ManualClock
from tidal.engine.core.intents import Classification
from tidal.engine.core.model import IncomingMessage
from tidal.engine.rulesio.bundle import EngineRules
from tidal.service.config import sqlite_url
from tidal.service.http.app import create_app
from tidal.service.persistence.handled_messages import HandledMessages, SeenIds
from tidal.service.persistence.store import DurableStore, RestoredState
from tidal.service.running.bootstrap import restore_engine


def test_seen_ids_add_layers_as_they_fill_and_never_forget_an_id() -> None:
    seen = SeenIds(first_layer=100, false_positive_rate=0.01)
    ids = [f"m-{n}" for n in range(3_100)]
    for message_id in ids:
        seen.add(message_id)
    assert seen.layers == 5  # 100 + 200 + 400 + 800 + 1,600
    assert all(message_id in seen for message_id in ids)
    strangers = sum(f"x-{n}" in seen for n in range(20_000))
    # The layers' nominal rates add up to 2 %; the bits a filter gets are rounded, and
    # which ids collide depends on the process's hash seed (about 1.6-2.2 % measured
    # over seeds), so the bound leaves room. One layer of 100 ids holding 3,100 would
    # answer yes to nearly every stranger.
    assert strangers < 600


@hypothesis_settings(max_examples=50, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=300, unique=True))
def test_seen_ids_have_no_false_negatives(ids: list[str]) -> None:
    seen = SeenIds(first_layer=7)
    for message_id in ids:
        seen.add(message_id)
    assert all(message_id in seen for message_id in ids)


def test_a_filter_false_positive_costs_one_read(tmp_path: Path) -> None:
    store = DurableStore(sqlite_url(tmp_path / "tidal.db"))
    store.create_schema()
    try:
        memory = HandledMessages(store.stored_outcome, recent=5)
        memory.restore_id("m-ghost")  # in the filter, not in the database
        assert memory.get_outcome("m-ghost") is None
        assert (memory.database_reads, memory.false_positives) == (1, 1)
        assert memory.get_outcome("m-never-seen") is None
        assert memory.database_reads == 1  # the filter answered alone
    finally:
        store.close()


def test_unconfirmed_outcomes_stay_in_memory_until_durable(engine_rules: EngineRules) -> None:
    reads: list[str] = []

    def read_outcome(message_id: str) -> None:
        reads.append(message_id)
        return None

    engine, memory = restore_engine(
        RestoredState([], [], [], {}),
        table_rules(engine_rules),
        ManualClock(T0),
        read_outcome=read_outcome,
        recent=2,
    )
    classification = Classification("other", 0.9, "model", model_version="v1")
    first = [
        engine.handle(IncomingMessage(f"m-{n}", f"c-{n}", "inbound", "hello"), classification)
        for n in range(6)
    ]
    assert memory.outcomes_in_memory == 6  # none confirmed durable yet: all kept
    again = engine.handle(IncomingMessage("m-0", "c-0", "inbound", "hello"), classification)
    assert again.duplicate and again.decision == first[0].decision
    memory.confirm(f"m-{n}" for n in range(6))
    assert memory.outcomes_in_memory == 2  # the two latest durable ones
    assert reads == []
    # an older one is now looked up in the database
    assert memory.get_outcome("m-0") is None and reads == ["m-0"]


def _server(
    tmp_path: Path, engine_rules: EngineRules, tokens: dict[str, str] | None = None
) -> tuple[FastAPI, LiveServer, Api]:
    settings = manual_settings(tmp_path, recent_outcomes=3)
    tokens = tokens or issue_tokens(settings.db_url)
    app = create_app(settings, rules=table_rules(engine_rules))
    server = LiveServer(app)
    client = httpx.Client(base_url=server.url, timeout=30)
    return app, server, Api(client, settings.db_url, tokens)


def test_old_duplicates_are_answered_from_the_database_before_and_after_a_restart(
    tmp_path: Path, engine_rules: EngineRules
) -> None:
    app, server, api = _server(tmp_path, engine_rules)
    with server, api.client:
        api.put_agent("a-1", preferred_concurrency=5, max_concurrency=6)
        first = [api.message(f"m-{n}", f"c-{n}", "my card is blocked").json() for n in range(8)]
        memory = app.state.services.handled_messages
        assert memory.outcomes_in_memory <= 3
        again = api.message("m-0", "c-0", "my card is blocked")
        assert again.status_code == 200
        assert again.json() == {**first[0], "duplicate": True}
        assert memory.database_reads >= 1
        metrics = {
            line.split()[0]: float(line.split()[1])
            for line in api.client.get("/metrics").text.splitlines()
            if line.startswith("tidal_message_")
        }
        assert metrics["tidal_message_outcomes_in_memory"] == memory.outcomes_in_memory
        assert metrics["tidal_message_id_database_reads_total"] == memory.database_reads
        assert metrics["tidal_message_id_false_positives_total"] == 0
        assert metrics["tidal_message_id_filter_bytes"] > 0
        agent = api.client.get("/v1/agents/a-1", headers=api.headers("supervisor")).json()
        assert agent["load"] == 5  # the duplicate changed nothing

    app, server, api = _server(tmp_path, engine_rules, api.tokens)
    with server, api.client:
        for n in (0, 4, 7):
            again = api.message(f"m-{n}", f"c-{n}", "my card is blocked")
            assert again.json() == {**first[n], "duplicate": True}
        fresh = api.message("m-8", "c-8", "my card is blocked")
        assert fresh.json()["duplicate"] is False
        memory = app.state.services.handled_messages
        assert memory.outcomes_in_memory <= 3
