"""Tokens and roles over HTTP: 401, 403, agents see only their own, no secret in logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.service.conftest import Api
from tidal.service.cli import app as tidal
from tidal.service.config import sqlite_url
from tidal.service.logging import JsonFormatter, RedactSecrets
from tidal.service.persistence.store import DurableStore
from tidal.service.tokens import hash_token

UNAUTHORIZED = "https://tidal.dev/problems/unauthorized"
FORBIDDEN = "https://tidal.dev/problems/forbidden"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer tidal_not-a-real-token"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer"},
    ],
    ids=["missing", "unknown", "wrong-scheme", "empty"],
)
def test_requests_without_a_valid_token_get_401(api: Api, headers: dict[str, str]) -> None:
    response = api.client.get("/v1/queue", headers=headers)
    assert response.status_code == 401
    assert response.json()["type"] == UNAUTHORIZED
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("who", "method", "path"),
    [
        ("a-1", "post", "/v1/messages"),
        ("supervisor", "post", "/v1/classify"),
        ("service", "get", "/v1/queue"),
        ("service", "get", "/v1/agents"),
        ("a-1", "get", "/v1/events"),
        ("supervisor", "post", "/v1/admin/rules/reload"),
        ("service", "post", "/v1/admin/clock"),
        ("service", "put", "/v1/agents/a-1"),
    ],
)
def test_a_role_without_the_right_gets_403(api: Api, who: str, method: str, path: str) -> None:
    body = (
        {"message_id": "m-1", "conversation_id": "c-1", "direction": "inbound", "text": "hi"}
        if path == "/v1/messages"
        else {"text": "hi", "direction": "inbound"}
    )
    if path == "/v1/admin/clock":
        body = {"now": "2026-11-25T11:00:00Z"}
    if method == "put":
        body = {"status": "available"}
    kwargs = {"json": body} if method in ("post", "put") else {}
    response = getattr(api.client, method)(path, headers=api.headers(who), **kwargs)
    assert response.status_code == 403, response.text
    assert response.json()["type"] == FORBIDDEN


def test_an_agent_sees_its_own_conversations_and_not_others(api: Api) -> None:
    api.put_agent("a-1", preferred_concurrency=1, max_concurrency=2)
    api.put_agent("a-2", preferred_concurrency=1, max_concurrency=2)
    first = api.message("m-1", "c-1", "my card is blocked").json()
    second = api.message("m-2", "c-2", "my parcel is late").json()
    mine = first["routing"]["agent_id"]
    theirs = second["routing"]["agent_id"]
    assert {mine, theirs} == {"a-1", "a-2"}
    own, other = ("c-1", "c-2") if mine == "a-1" else ("c-2", "c-1")
    get = api.client.get
    assert get(f"/v1/conversations/{own}", headers=api.headers("a-1")).status_code == 200
    refused = get(f"/v1/conversations/{other}", headers=api.headers("a-1"))
    assert refused.status_code == 403 and refused.json()["type"] == FORBIDDEN
    post = api.client.post
    assert (
        post(
            f"/v1/conversations/{other}/close", json={"reason": "x"}, headers=api.headers("a-1")
        ).status_code
        == 403
    )
    assert (
        get(f"/v1/conversations/{other}", headers=api.headers("service")).json()["state"]
        == "assigned"
    )
    assert get("/v1/agents/a-2", headers=api.headers("a-1")).status_code == 403
    assert get("/v1/agents/a-2/conversations", headers=api.headers("a-1")).status_code == 403
    assert get("/v1/agents/a-1/conversations", headers=api.headers("a-1")).status_code == 200


def test_an_agent_may_set_its_status_but_not_its_limits(api: Api) -> None:
    api.put_agent("a-1", preferred_concurrency=2, max_concurrency=3)
    put = api.client.put
    away = put("/v1/agents/a-1", json={"status": "away"}, headers=api.headers("a-1"))
    assert away.status_code == 200 and away.json()["status"] == "away"
    limits = put("/v1/agents/a-1", json={"max_concurrency": 9}, headers=api.headers("a-1"))
    assert limits.status_code == 403
    other = put("/v1/agents/a-2", json={"status": "away"}, headers=api.headers("a-1"))
    assert other.status_code == 403
    agent = api.client.get("/v1/agents/a-1", headers=api.headers("supervisor")).json()
    assert agent["max_concurrency"] == 3


def test_an_admin_may_read_what_a_supervisor_reads(api: Api) -> None:
    assert api.message("m-1", "c-1", "my card is blocked").status_code == 200
    admin = api.headers("admin")
    assert api.client.get("/v1/queue", headers=admin).status_code == 200
    assert api.client.get("/v1/agents", headers=admin).status_code == 200
    assert api.client.get("/v1/conversations/c-1", headers=admin).status_code == 200
    with api.client.stream("GET", "/v1/events", headers=admin) as events:
        assert events.status_code == 200
        assert events.headers["content-type"].startswith("text/event-stream")


def test_an_admin_still_may_not_act_as_the_messaging_service(api: Api) -> None:
    response = api.client.post(
        "/v1/messages",
        headers=api.headers("admin"),
        json={"message_id": "m-1", "conversation_id": "c-1", "direction": "inbound", "text": "hi"},
    )
    assert response.status_code == 403


def test_me_tells_the_role_and_agent_of_a_token(api: Api) -> None:
    assert api.client.get("/v1/me", headers=api.headers("a-2")).json() == {
        "role": "agent",
        "agent_id": "a-2",
    }
    assert api.client.get("/v1/me", headers=api.headers("supervisor")).json() == {
        "role": "supervisor",
        "agent_id": None,
    }


def test_tokens_never_appear_in_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api.put_agent("a-1")
    api.message("m-1", "c-1", "my card is blocked")
    api.client.get("/v1/queue", headers=api.headers("service"))  # 403
    api.client.get("/v1/queue", headers={"Authorization": "Bearer tidal_leaked-secret-123"})
    api.client.get("/v1/conversations/c-1", headers=api.headers("a-2"))
    formatter, redactor = JsonFormatter(), RedactSecrets()
    rendered = "\n".join(formatter.format(r) for r in caplog.records if redactor.filter(r))
    assert any(r.name == "tidal.access" for r in caplog.records)
    for token in [*api.tokens.values(), "tidal_leaked-secret-123"]:
        assert token not in caplog.text
        assert token not in rendered


def test_the_redacting_filter_scrubs_tokens_logged_by_mistake() -> None:
    record = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "header was Bearer tidal_abcDEF123 and %s",
        ("tidal_zzz",),
        None,
    )
    RedactSecrets().filter(record)
    assert "tidal_abc" not in record.getMessage() and "tidal_zzz" not in record.getMessage()


def test_token_create_works_on_a_new_database_and_prints_the_token_last(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    result = CliRunner().invoke(
        tidal, ["token", "create", "--role", "agent", "--agent", "a-5", "--db", str(db)]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("tidal_")
    store = DurableStore(sqlite_url(db))
    principal = store.principal_for(hash_token(token))
    store.close()
    assert principal is not None
    assert (principal.role, principal.agent_id) == ("agent", "a-5")


def test_token_create_refuses_an_agent_token_without_an_agent(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        tidal, ["token", "create", "--role", "agent", "--db", str(tmp_path / "x.db")]
    )
    assert result.exit_code == 2


def test_only_the_hash_of_a_token_is_stored(api: Api) -> None:
    store = DurableStore(api.db_url)
    with store.engine.connect() as conn:
        dump = "\n".join(str(row) for row in conn.exec_driver_sql("SELECT * FROM tokens"))
    store.close()
    for token in api.tokens.values():
        assert token not in dump
        assert hash_token(token) in dump
