"""One writer per database: a second service on the same database is a replica that
forwards the API (live streams included) to the writer, answers 503 while no writer is
reachable, and takes over when the writer stops (SQLite here; PostgreSQL, with a
`kill -9` and the writer epoch, in test_postgres)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import (
    Api,
    LiveServer,
    free_port,
    issue_tokens,
    manual_settings,
    table_rules,
)
from tests.service.sse import SseReader
from tidal.engine.rulesio.bundle import EngineRules
from tidal.engine.rulesio.errors import FilesInvalid
from tidal.service.config import MAX_BODY_BYTES, sqlite_url
from tidal.service.http.app import create_app
from tidal.service.replication.writer_lock import FileWriterLock, NoWriterLock, writer_lock_for


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


def _replica_pair(
    tmp_path: Path, engine_rules: EngineRules
) -> tuple[LiveServer, LiveServer, dict[str, str], str]:
    """Two services on one database, each advertising its address; the first started
    becomes the writer."""
    ports = free_port(), free_port()
    servers = []
    for port in ports:
        settings = manual_settings(tmp_path, advertise_url=f"http://127.0.0.1:{port}")
        servers.append(LiveServer(create_app(settings, rules=table_rules(engine_rules)), port))
    db_url = manual_settings(tmp_path).db_url
    return servers[0], servers[1], issue_tokens(db_url), db_url


def test_a_replica_forwards_the_api_and_the_live_stream_to_the_writer(
    tmp_path: Path, engine_rules: EngineRules
) -> None:
    writer, replica, tokens, db_url = _replica_pair(tmp_path, engine_rules)
    with (
        writer,
        replica,
        httpx.Client(base_url=writer.url, timeout=30) as writer_client,
        httpx.Client(base_url=replica.url, timeout=30) as replica_client,
    ):
        direct = Api(writer_client, db_url, tokens)
        forwarded = Api(replica_client, db_url, tokens)
        health = replica_client.get("/healthz")
        assert (health.status_code, health.json()) == (
            200,
            {"status": "replica", "writer": writer.url},
        )
        assert forwarded.put_agent("a-1", preferred_concurrency=2).status_code == 200
        stream_headers = {**forwarded.headers("a-1"), "Last-Event-ID": "0"}
        with replica_client.stream(
            "GET", "/v1/agents/a-1/events", headers=stream_headers
        ) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            answered = forwarded.message("m-1", "c-1", "my card is blocked").json()
            assert answered["routing"] == {"agent_id": "a-1", "reason": "least_loaded"}
            events = SseReader(stream)
            assigned = next(e for e in events if e.event == "assigned")
            assert assigned.data is not None and assigned.data["conversation_id"] == "c-1"
        # the same engine answers both ways: a duplicate is one wherever it arrives
        again = direct.message("m-1", "c-1", "my card is blocked")
        assert again.json() == {**answered, "duplicate": True}
        invalid = forwarded.message("m-2", "c-2", "hi", direction="sideways")
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"
        unauthorized = replica_client.get("/v1/agents")
        assert unauthorized.status_code == 401
        oversized = replica_client.post(
            "/v1/messages",
            content=b"x" * (MAX_BODY_BYTES + 1),
            headers={**forwarded.headers("service"), "Content-Type": "application/json"},
        )
        assert oversized.status_code == 413
        assert oversized.json()["type"] == "https://tidal.dev/problems/payload-too-large"
        assert _metric(replica_client, "tidal_writer") == 0
        forwarded_posts = (
            'tidal_http_requests_total{method="POST",route="(forwarded)",status="200"}'
        )
        assert _metric(replica_client, forwarded_posts) == 1
    # (both stopped together here; the takeover itself is the test above)


def test_a_replica_answers_503_while_the_advertised_writer_is_unreachable(
    tmp_path: Path, engine_rules: EngineRules
) -> None:
    writer, replica, tokens, db_url = _replica_pair(tmp_path, engine_rules)
    with writer:
        pass  # it ran, advertised its address, and stopped
    # a standby that is not the writer yet: an old lock holder is simulated by a lock
    lock = writer_lock_for(db_url)
    assert lock.try_acquire()
    try:
        with replica, httpx.Client(base_url=replica.url, timeout=30) as client:
            health = client.get("/healthz")
            assert (health.status_code, health.json()) == (503, {"status": "standby"})
            refused = Api(client, db_url, tokens).message("m-1", "c-1", "hello")
            assert refused.status_code == 503
            assert refused.json()["type"] == "https://tidal.dev/problems/standby"
            assert "not reachable" in refused.json()["detail"]
            assert refused.headers["retry-after"] == "1"
    finally:
        lock.release()


def test_a_service_that_fails_to_start_leaves_the_lock_free(tmp_path: Path) -> None:
    settings = manual_settings(tmp_path, rules_dir=tmp_path / "no-rules-here")
    app = create_app(settings)

    async def start() -> None:
        async with app.router.lifespan_context(app):
            raise AssertionError("the service started without rules")

    with pytest.raises(FilesInvalid):
        asyncio.run(start())
    lock = writer_lock_for(settings.db_url)
    try:
        assert lock.try_acquire()
    finally:
        lock.release()
