"""One writer per database: a second service on the same database is a standby that
answers 503 and takes over when the writer stops (SQLite here; PostgreSQL, with a
`kill -9` and the writer epoch, in test_postgres)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from engine.rulesio.bundle import EngineRules
from service.app import create_app
from service.config import sqlite_url
from service.writer_lock import FileWriterLock, NoWriterLock, writer_lock_for
from tests.service.conftest import Api, LiveServer, issue_tokens, manual_settings, table_rules


def _metric(client: httpx.Client, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


def test_a_second_service_is_a_standby_until_the_writer_stops(
    tmp_path: Path, engine_rules: EngineRules
) -> None:
    settings = manual_settings(tmp_path)
    tokens = issue_tokens(settings.db_url)
    writer = LiveServer(create_app(settings, rules=table_rules(engine_rules)))
    standby = LiveServer(create_app(settings, rules=table_rules(engine_rules)))
    with writer, httpx.Client(base_url=writer.url, timeout=30) as first_client:
        first = Api(first_client, settings.db_url, tokens)
        first.put_agent("a-1", preferred_concurrency=2, max_concurrency=3).raise_for_status()
        answered = first.message("m-1", "c-1", "my card is blocked").json()
        standby.__enter__()
        second = Api(httpx.Client(base_url=standby.url, timeout=30), settings.db_url, tokens)
        health = second.client.get("/healthz")
        assert (health.status_code, health.json()) == (503, {"status": "standby"})
        refused = second.message("m-2", "c-2", "where is my parcel?")
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "https://tidal.dev/problems/standby"
        assert refused.headers["retry-after"] == "1"
        listed = second.client.get("/v1/agents", headers=second.headers("supervisor"))
        assert listed.status_code == 503
        assert second.client.get("/").status_code == 200  # the desk's files
        assert _metric(second.client, "tidal_writer") == 0
        assert _metric(first.client, "tidal_writer") == 1
    try:
        # the writer stopped: the standby takes the lock, restores and serves
        deadline = time.monotonic() + 30
        while second.client.get("/healthz").status_code != 200:
            assert time.monotonic() < deadline, "the standby did not take over"
            time.sleep(0.05)
        again = second.message("m-1", "c-1", "my card is blocked")
        assert again.json() == {**answered, "duplicate": True}
        fresh = second.message("m-2", "c-2", "where is my parcel?")
        assert (fresh.status_code, fresh.json()["duplicate"]) == (200, False)
        agent = second.client.get("/v1/agents/a-1", headers=second.headers("supervisor"))
        assert agent.json()["load"] == 2
        assert _metric(second.client, "tidal_writer") == 1
    finally:
        second.client.close()
        standby.__exit__(None, None, None)


def test_file_lock_is_exclusive_between_holders_and_free_after_release(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "tidal.db")
    one, two = writer_lock_for(url), writer_lock_for(url)
    assert isinstance(one, FileWriterLock) and one.path == tmp_path / "tidal.db-writer.lock"
    assert one.try_acquire() and one.try_acquire()  # holding it twice is holding it
    assert not two.try_acquire()
    one.release()
    assert two.try_acquire()
    two.release()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_database_needs_no_lock(url: str) -> None:
    assert isinstance(writer_lock_for(url), NoWriterLock)


def test_an_unknown_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database"):
        writer_lock_for("mysql://localhost/tidal")
