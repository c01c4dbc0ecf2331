"""The store and the service on PostgreSQL (127.0.0.1:5432, database `test`, trust auth).

Each test works in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import getpass
import itertools
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import pytest
import sqlalchemy as sa

from tests.service.conftest import (
    T0,
    Api,
    LiveServer,
    issue_tokens,
    manual_settings,
    serve_process,
    table_rules,
)
from tests.service.tcp_proxy import TcpProxy
from tidal.engine.core.clock import ManualClock
from tidal.engine.core.intents import Classification
from tidal.engine.core.model import IncomingMessage
from tidal.engine.rulesio.bundle import EngineRules
from tidal.service.http.app import create_app
from tidal.service.persistence import schema
from tidal.service.persistence.store import CommitBatch, DurableStore, RestoredState, StaleWriter
from tidal.service.replication.writer_lock import PostgresWriterLock
from tidal.service.running.bootstrap import restore_engine
from tidal.service.running.runtime import batch_from_changes
from tidal.service.tokens import Role, hash_token
from tidal.service.views import message_response

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
    tokens = issue_tokens(pg_url)
    app = create_app(settings, rules=table_rules(engine_rules))
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        api = Api(client, pg_url, tokens)
        api.put_agent("a-1")
        first = api.message("m-1", "c-1", "my card is blocked").json()
        assert first["routing"] == {"agent_id": "a-1", "reason": "least_loaded"}
        assert api.message("m-1", "c-1", "again").json() == {**first, "duplicate": True}


def test_a_writer_that_lost_its_claim_commits_nothing(pg_url: str) -> None:
    old, new = DurableStore(pg_url), DurableStore(pg_url)
    try:
        old.create_schema()
        assert old.claim_writer() == 1
        old.commit(CommitBatch(meta={"probe": "old"}))
        # the lock passed on while the old writer still ran: the new one claims
        new.create_schema()
        assert new.claim_writer() == 2
        with pytest.raises(StaleWriter):
            old.commit(CommitBatch(meta={"probe": "stale"}))
        new.commit(CommitBatch(meta={"probe": "new"}))
        assert new.load_state(recent_outcomes=0).meta["probe"] == "new"
    finally:
        old.close()
        new.close()


def test_the_writer_lock_belongs_to_one_schema(pg_url: str) -> None:
    other = pg_url.rsplit("%3D", 1)[0] + "%3Dpublic"
    one, two, elsewhere = (
        PostgresWriterLock(pg_url),
        PostgresWriterLock(pg_url),
        PostgresWriterLock(other),
    )
    try:
        assert one.try_acquire()
        assert not two.try_acquire()
        assert elsewhere.try_acquire()  # another deployment in the same database
        one.release()
        assert two.try_acquire()
    finally:
        for lock in (one, two, elsewhere):
            lock.release()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_replica_forwards_to_the_writer_and_takes_over_when_it_is_killed(
    pg_url: str, tmp_path: Path
) -> None:
    store = DurableStore(pg_url)
    store.create_schema()
    service = store.create_token(Role.SERVICE)
    supervisor = store.create_token(Role.SUPERVISOR)
    store.close()
    auth = {"Authorization": f"Bearer {service}"}
    with (
        serve_process(pg_url, tmp_path / "writer.log") as (writer, writer_url),
        serve_process(pg_url, tmp_path / "replica.log") as (_, replica_url),
    ):
        assert httpx.get(f"{replica_url}/healthz").json() == {
            "status": "replica",
            "writer": writer_url,
        }
        httpx.put(
            f"{replica_url}/v1/agents/a-1",
            json={"status": "available", "preferred_concurrency": 50, "max_concurrency": 60},
            headers={"Authorization": f"Bearer {supervisor}"},
        ).raise_for_status()
        acknowledged = {}
        for i in range(40):  # half to each replica
            body = {
                "message_id": f"m-{i}",
                "conversation_id": f"c-{i % 9}",
                "direction": "inbound",
                "text": ["my card is blocked", "thanks!", "where is my parcel?"][i % 3],
            }
            url = writer_url if i % 2 else replica_url
            answer = httpx.post(f"{url}/v1/messages", json=body, headers=auth)
            assert answer.status_code == 200
            acknowledged[f"m-{i}"] = (body, answer.json())

        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(30)
        deadline = time.monotonic() + 120
        while httpx.get(f"{replica_url}/healthz", timeout=5).json()["status"] != "ok":
            assert time.monotonic() < deadline, "the replica did not take over"
            time.sleep(0.1)
        for body, first in acknowledged.values():
            again = httpx.post(f"{replica_url}/v1/messages", json=body, headers=auth)
            assert again.json() == {**first, "duplicate": True}
        fresh = httpx.post(
            f"{replica_url}/v1/messages",
            json={"message_id": "m-new", "conversation_id": "c-new", "direction": "inbound",
                  "text": "my card is blocked"},
            headers=auth,
        )  # fmt: skip
        assert (fresh.status_code, fresh.json()["duplicate"]) == (200, False)
        events = DurableStore(pg_url)
        try:
            ids = [e.id for e in events.events_after(0, limit=100_000)]
        finally:
            events.close()
        assert ids == list(range(1, len(ids) + 1))  # no gap, no duplicate across writers


def test_nul_in_ids_on_postgresql_is_a_4xx_and_the_service_keeps_serving(
    pg_url: str, engine_rules: EngineRules, tmp_path: Path
) -> None:
    settings = manual_settings(tmp_path, db_url=pg_url)
    tokens = issue_tokens(pg_url)
    app = create_app(settings, rules=table_rules(engine_rules))
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        api = Api(client, pg_url, tokens)
        poisons = [
            ("m-nul-1", "c-\x00", {}),
            ("m-nul-2", "c-2", {"customer_id": "cu\x00st"}),
            ("m-nul-3", "c-3", {"channel": "ch\x00"}),
        ]
        for _retry in range(2):  # a client retrying meets the same answer
            for message_id, conversation_id, extra in poisons:
                answer = api.message(message_id, conversation_id, "hello", **extra)
                assert 400 <= answer.status_code < 500, answer.text
                assert client.get("/healthz").json()["status"] == "ok"
            agent = client.put("/v1/agents/a%00b", json={}, headers=api.headers("supervisor"))
            assert 400 <= agent.status_code < 500, agent.text
            assert api.put_agent("a-1").status_code == 200
        # nothing of the refused messages was kept; the service answers the rest
        assert api.message("m-nul-2", "c-2", "hello").json()["duplicate"] is False
        assert client.get("/healthz").json()["status"] == "ok"


def _until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_postgresql_outage_mid_load_answers_503_and_recovers_by_itself(
    pg_url: str, engine_rules: EngineRules, tmp_path: Path
) -> None:
    """The service reaches PostgreSQL through a TCP proxy the test cuts (every session
    dropped, new ones refused) and restores while messages keep arriving."""
    store = DurableStore(pg_url)
    store.create_schema()
    tokens = {"service": store.create_token(Role.SERVICE)}
    with TcpProxy("127.0.0.1", 5432) as proxy:
        proxied = pg_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
        app = create_app(manual_settings(tmp_path, db_url=proxied), rules=table_rules(engine_rules))
        with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            api = Api(client, proxied, tokens)
            answers: dict[str, int] = {}
            stop = threading.Event()

            def load() -> None:
                with httpx.Client(base_url=server.url, timeout=30) as sender:
                    sending = Api(sender, proxied, tokens)
                    for n in itertools.count():
                        if stop.is_set():
                            return
                        answer = sending.message(f"m-{n}", f"c-{n % 25}", "hello")
                        answers[f"m-{n}"] = answer.status_code

            def acknowledged() -> int:
                return sum(status == 200 for status in list(answers.values()))

            loader = threading.Thread(target=load, daemon=True)
            loader.start()
            _until(lambda: acknowledged() >= 10, 30, "no load before the outage")
            proxy.cut()
            _until(lambda: client.get("/healthz").status_code == 503, 10, "no failing health")
            assert api.message("m-during", "c-during", "hello").status_code == 503
            time.sleep(1.0)  # it lasts a while
            proxy.restore()
            _until(lambda: client.get("/healthz").status_code == 200, 15, "no recovery")
            after = acknowledged()
            _until(lambda: acknowledged() >= after + 10, 30, "no load after the outage")
            stop.set()
            loader.join(30)
            # what was refused during the outage can be sent again: accepted once
            refused = [m for m, status in answers.items() if status != 200] + ["m-during"]
            for message_id in refused:
                n = message_id.removeprefix("m-")
                retry = api.message(message_id, f"c-{n if n == 'during' else int(n) % 25}", "hello")
                assert retry.status_code == 200, retry.text
    statuses = set(answers.values())
    assert statuses <= {200, 503}, statuses
    assert 503 in statuses
    with store.engine.connect() as conn:
        stored = set(conn.execute(sa.select(schema.messages.c.message_id)).scalars())
    store.close()
    assert {m for m, status in answers.items() if status == 200} <= stored
    assert set(refused) <= stored
