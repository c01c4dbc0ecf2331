"""Input is checked at the edge, the same on every database: ids, codes, texts, times
and numbers that the service cannot store, or that would overflow a deadline, are 422
problems naming the field; nothing reaches the engine or the database, and the service
keeps serving. Each reproducer of a request that once took the service down (or
answered 500) has a test named for it; the tables around them cover their kinds."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.service.conftest import (
    Api,
    LiveServer,
    issue_tokens,
    manual_settings,
    table_rules,
)
from tests.service.databases import database
from tests.service.state import differences, stored_message_ids
from tidal.engine.rulesio.bundle import EngineRules
from tidal.service.config import MAX_TEXT_BYTES
from tidal.service.http.app import create_app

PROBLEM = "application/problem+json"

#: ids of every kind that the documented policy refuses (see service/http/routes/fields.py)
HOSTILE_IDS = {
    "empty": "",
    "space": "a b",
    "tab": "a\tb",
    "newline at the end": "a\n",
    "NUL": "a\x00b",
    "DEL": "a\x7fb",
    "C1 control": "a\x85b",
    "zero-width space": "a\u200bb",
    "right-to-left override": "a\u202eb",
    "byte order mark": "\ufeffa",
    "non-ASCII letter": "caf\u00e9",
    "combining mark": "e\u0301",
    "emoji": "\U0001f600",
    "lone high surrogate": "a\ud800",
    "lone low surrogate": "\udc00b",
    "slash": "a/b",
    "percent": "a%00b",
    "question mark": "a?b",
    "hash": "a#b",
    "dot only": ".",
    "dots only": "..",
    "leading dash": "-a",
    "leading dot": ".a",
    "too long": "a" * 256,
}
#: ids the policy accepts, at its edges
ACCEPTED_IDS = [
    "a",
    "a" * 255,
    "jane.doe+tidal@example.com",
    "urn:tidal:c:42",
    "550e8400-e29b-41d4-a716-446655440000",
    "+15551234567",
    "A_b~c=d",
    "_system",
]
#: texts the service stores as they are
ACCEPTED_TEXTS = {
    "emoji": "\U0001f600" * 10 + " \U0001f44d\U0001f3fd \U0001f468\u200d\U0001f469\u200d\U0001f467",
    "right-to-left": "\u0645\u0631\u062d\u0628\u0627 \u202eabc\u202c \u05e9\u05dc\u05d5\u05dd",
    "combining marks": "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319" * 40,
    "controls but NUL": "a\x01b\x07c\x1bd\x7fe\x85f\tg\nh\r",
    "noncharacters": "\ufffe\uffff\U0010ffff",
    "byte order mark": "\ufeffhello",
    "at the size limit": "\u00e9" * (MAX_TEXT_BYTES // 2),
}


def raw_json(body: dict[str, Any]) -> bytes:
    """JSON as a hostile client may send it: lone surrogates as `\\udXXX` escapes."""
    return json.dumps(body, ensure_ascii=True).encode()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def edge_api(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    engine_rules: EngineRules,
) -> Iterator[Api]:
    """One service per database for the module (each test leaves the state as it was)."""
    tmp_path = tmp_path_factory.mktemp("edge")
    with database(request.param, tmp_path) as db_url:
        settings = manual_settings(tmp_path, db_url=db_url)
        tokens = issue_tokens(settings.db_url)
        app = create_app(settings, rules=table_rules(engine_rules))
        with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            yield Api(client, settings.db_url, tokens, server, app)


def message(**fields: Any) -> dict[str, Any]:
    """A valid message body with `fields` replaced."""
    return {
        "message_id": "m-1",
        "conversation_id": "c-1",
        "direction": "inbound",
        "text": "my card is blocked",
        **fields,
    }


def post_raw(api: Api, path: str, body: dict[str, Any], who: str, method: str = "POST") -> Any:
    headers = {**api.headers(who), "Content-Type": "application/json"}
    return api.client.request(method, path, content=raw_json(body), headers=headers)


def assert_refused(response: Any, *loc: str | int) -> None:
    """A 422 validation problem whose errors name the field at `loc`."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "https://tidal.dev/problems/validation"
    named = [tuple(e["loc"]) for e in problem["errors"]]
    assert any(n[: len(loc)] == loc for n in named), (loc, named)


def assert_still_serving(api: Api) -> None:
    health = api.client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok", health.text
    assert differences(api) == []


# -- the reproducers -------------------------------------------------------------------


def test_put_agent_with_a_lone_surrogate_skill_is_a_422_and_the_service_keeps_writing(
    edge_api: Api,
) -> None:
    api = edge_api
    refused = post_raw(api, "/v1/agents/ag-x", {"skills": ["a\ud800"]}, "supervisor", "PUT")
    assert_refused(refused, "body", "skills", 0)
    assert api.client.get("/v1/agents/ag-x", headers=api.headers("supervisor")).status_code == 404
    # reads and writes still work
    written = api.put_agent("ag-ok", skills=["billing"])
    assert written.status_code == 200, written.text
    assert_still_serving(api)


@pytest.mark.parametrize("field", ["customer_id", "conversation_id", "message_id"])
def test_a_nul_in_a_message_id_field_is_a_422_on_every_database(edge_api: Api, field: str) -> None:
    api = edge_api
    body = {
        **message(message_id=f"m-nul-{field}", conversation_id=f"c-nul-{field}"),
        field: "c\x007",
    }
    assert_refused(post_raw(api, "/v1/messages", body, "service"), "body", field)
    assert f"m-nul-{field}" not in stored_message_ids(api.db_url)
    assert_still_serving(api)


def test_put_agent_with_a_nul_in_its_path_id_is_a_422(edge_api: Api) -> None:
    api = edge_api
    refused = api.client.put(
        "/v1/agents/a%00b", json={"status": "available"}, headers=api.headers("supervisor")
    )
    assert_refused(refused, "path", "agent_id")
    assert_still_serving(api)


@pytest.mark.parametrize(
    "sent_at",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59Z",
        "1969-12-31T23:59:59Z",
        "3000-01-01T00:00:00Z",
    ],
)
def test_a_sent_at_outside_the_documented_range_is_a_422(edge_api: Api, sent_at: str) -> None:
    api = edge_api
    body = message(message_id="m-when", conversation_id="c-when", sent_at=sent_at)
    assert_refused(post_raw(api, "/v1/messages", body, "service"), "body", "sent_at")
    assert "m-when" not in stored_message_ids(api.db_url)
    assert_still_serving(api)


@pytest.mark.parametrize(
    "now",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59Z", 0],
)
def test_the_admin_clock_outside_the_documented_range_is_a_422(edge_api: Api, now: Any) -> None:
    api = edge_api
    before = api.client.get("/healthz").json()["now"]
    assert_refused(post_raw(api, "/v1/admin/clock", {"now": now}, "admin"), "body", "now")
    assert api.client.get("/healthz").json()["now"] == before


def test_messages_at_the_latest_clock_allowed_are_accepted_and_stored(
    tmp_path: Path, engine_rules: EngineRules
) -> None:
    # the reproducer: with the clock at 9999-12-31T23:59:59Z every message answered 500
    # and left a conversation in memory only; the clock now stops short of the year 3000
    # and every deadline computed from it still fits the calendar
    settings = manual_settings(tmp_path)
    tokens = issue_tokens(settings.db_url)
    app = create_app(settings, rules=table_rules(engine_rules))
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        api = Api(client, settings.db_url, tokens, server, app)
        api.put_agent("a-1")
        late = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
        assert api.set_clock(late).status_code == 200
        answered = api.message("m-late", "c-late", "my card is blocked")
        assert answered.status_code == 200, answered.text
        assert answered.json()["routing"]["agent_id"] == "a-1"
        reply = api.message("m-late-2", "c-late", "One moment while I check that for you.",
            direction="outbound", agent_id="a-1",
        )  # fmt: skip
        assert reply.status_code == 200, reply.text
        assert_still_serving(api)


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/v1/agents/ag-y", {"preferred_concurrency": False}, ("body", "preferred_concurrency")),
        ("/v1/agents/ag-y", {"max_concurrency": "3"}, ("body", "max_concurrency")),
        ("/v1/agents/ag-y", {"max_concurrency": 3.0}, ("body", "max_concurrency")),
        ("/v1/agents/ag-y", {"skills": "billing"}, ("body", "skills")),
        ("/v1/agents/ag-y", {"status": ["away"]}, ("body", "status")),
        ("/v1/messages", message(sent_at=0), ("body", "sent_at")),
        ("/v1/messages", message(sent_at="0"), ("body", "sent_at")),
        ("/v1/messages", message(sent_at="1700000000"), ("body", "sent_at")),
        ("/v1/messages", message(sent_at="2026-11-25T10:00:00"), ("body", "sent_at")),
        ("/v1/messages", message(sent_at="2026-11-25"), ("body", "sent_at")),
        ("/v1/messages", message(text=5), ("body", "text")),
        ("/v1/messages", message(message_id=7), ("body", "message_id")),
        ("/v1/messages", message(direction="INBOUND"), ("body", "direction")),
        ("/v1/messages", message(skills=[1]), ("body", "skills", 0)),
        ("/v1/classify", {"text": None, "direction": "inbound"}, ("body", "text")),
        ("/v1/conversations/c-1/close", {"reason": 1}, ("body", "reason")),
    ],
)
def test_loose_types_are_refused_not_coerced(
    edge_api: Api, path: str, body: dict[str, Any], loc: tuple[str, ...]
) -> None:
    method = "PUT" if path.startswith("/v1/agents/") else "POST"
    who = {"PUT": "supervisor", "POST": "service"}[method]
    assert_refused(post_raw(edge_api, path, body, who, method), *loc)
    assert (
        edge_api.client.get("/v1/agents/ag-y", headers=edge_api.headers("supervisor")).status_code
        == 404
    )


@pytest.mark.parametrize(
    "last_event_id", ["99999999999999999999999", "9223372036854775808", "-1", "1e3", "0x10", "1_0"]
)
def test_a_last_event_id_that_names_no_event_is_a_422(edge_api: Api, last_event_id: str) -> None:
    api = edge_api
    response = api.client.get(
        "/v1/events", headers={**api.headers("supervisor"), "Last-Event-ID": last_event_id}
    )
    assert_refused(response, "header", "Last-Event-ID")


# -- the kinds -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(HOSTILE_IDS))
def test_ids_outside_the_policy_are_refused_in_every_id_field(edge_api: Api, kind: str) -> None:
    api = edge_api
    bad = HOSTILE_IDS[kind]
    for field in ("message_id", "conversation_id", "customer_id", "agent_id"):
        body = {**message(message_id="m-id", conversation_id="c-id"), field: bad}
        if field == "agent_id":
            body["direction"] = "outbound"
        assert_refused(post_raw(api, "/v1/messages", body, "service"), "body", field)
    path_id = quote(bad.encode("utf-8", "surrogatepass"), safe="")
    for method, template, who in [
        ("PUT", "/v1/agents/{}", "supervisor"),
        ("GET", "/v1/agents/{}", "supervisor"),
        ("GET", "/v1/agents/{}/conversations", "supervisor"),
        ("POST", "/v1/agents/{}/take", "supervisor"),
        ("GET", "/v1/agents/{}/events", "supervisor"),
        ("GET", "/v1/conversations/{}", "service"),
        ("POST", "/v1/conversations/{}/close", "service"),
        ("POST", "/v1/conversations/{}/inactivate", "supervisor"),
    ]:
        if bad in ("", ".", ".."):  # clients resolve such segments to another path
            continue
        url = template.format(path_id)
        body = {"status": "available"} if method == "PUT" else None
        response = api.client.request(method, url, json=body, headers=api.headers(who))
        if "/" in bad:  # %2F: no route has a path with that many segments
            assert response.status_code == 404, (url, response.text)
            continue
        field = "agent_id" if "/agents/" in template else "conversation_id"
        assert_refused(response, "path", field)
    for field, value in [("skills", [bad]), ("channel", bad)]:
        body = message(message_id="m-code", conversation_id="c-code", **{field: value})
        loc = ("body", field, 0) if field == "skills" else ("body", field)
        if kind != "too long" or field == "channel":
            assert_refused(post_raw(api, "/v1/messages", body, "service"), *loc)
    assert {"m-id", "m-code"}.isdisjoint(stored_message_ids(api.db_url))
    assert_still_serving(api)


@pytest.mark.parametrize("good", ACCEPTED_IDS)
def test_ids_within_the_policy_are_accepted_and_round_trip(edge_api: Api, good: str) -> None:
    api = edge_api
    assert api.put_agent(good).status_code == 200
    answered = post_raw(
        api,
        "/v1/messages",
        message(
            message_id=f"m-{good}"[:255],
            conversation_id=good,
            customer_id=good,
            agent_id=good,
            direction="outbound",
        ),
        "service",
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["conversation_id"] == good
    read = api.client.get(
        f"/v1/conversations/{quote(good, safe='')}", headers=api.headers("service")
    )
    assert read.status_code == 200 and read.json()["customer_id"] == good
    assert_still_serving(api)


@pytest.mark.parametrize(
    "text", ["a\x00b", "\x00", "a\ud800", "\udc00", "\udc00\ud800", "x" * (MAX_TEXT_BYTES + 1)]
)
def test_texts_that_cannot_be_stored_are_refused(edge_api: Api, text: str) -> None:
    api = edge_api
    assert_refused(
        post_raw(
            api,
            "/v1/messages",
            message(message_id="m-text", conversation_id="c-text", text=text),
            "service",
        ),
        "body",
        "text",
    )
    assert_refused(
        post_raw(api, "/v1/classify", {"text": text, "direction": "inbound"}, "service"),
        "body",
        "text",
    )
    assert "m-text" not in stored_message_ids(api.db_url)


@pytest.mark.parametrize("kind", list(ACCEPTED_TEXTS))
def test_any_other_unicode_text_is_stored_as_sent(edge_api: Api, kind: str) -> None:
    api = edge_api
    text = ACCEPTED_TEXTS[kind]
    answered = post_raw(
        api,
        "/v1/messages",
        message(message_id=f"m-{kind}".replace(" ", "-"), conversation_id="c-texts", text=text),
        "service",
    )
    assert answered.status_code == 200, answered.text
    assert_still_serving(api)


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/v1/messages"), ("PUT", "/v1/agents/a-deep")]
)
def test_json_nested_too_deep_is_a_400_problem(edge_api: Api, method: str, path: str) -> None:
    api = edge_api
    headers = {**api.headers("supervisor" if method == "PUT" else "service")}
    headers["Content-Type"] = "application/json"
    deep = b"[" * 100_000 + b"]" * 100_000
    response = api.client.request(method, path, content=deep, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "https://tidal.dev/problems/malformed-json"
    assert_still_serving(api)


def test_a_body_key_with_a_lone_surrogate_is_a_422_problem(edge_api: Api) -> None:
    api = edge_api
    response = post_raw(api, "/v1/messages", {**message(), "x\ud800": 1}, "service")
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    response = post_raw(api, "/v1/agents/a-k", {"status\udfff": "away"}, "supervisor", "PUT")
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM


# -- the HTTP contract -----------------------------------------------------------------


def test_every_method_a_path_lacks_answers_405_with_the_methods_it_takes(edge_api: Api) -> None:
    api = edge_api
    paths = api.client.get("/openapi.json").json()["paths"]
    checked = 0
    for template, operations in paths.items():
        url = template.replace("{agent_id}", "a-1").replace("{conversation_id}", "c-1")
        url = url.replace("{token_id}", "1")
        allowed = sorted(m.upper() for m in operations)
        for method in {"GET", "PUT", "POST", "DELETE", "PATCH"} - set(allowed):
            response = api.client.request(method, url, headers=api.headers("admin"))
            assert response.status_code == 405, (method, url, response.text)
            assert response.headers["allow"] == ", ".join(allowed), (method, url)
            assert response.headers["content-type"] == PROBLEM
            checked += 1
    assert checked > 60


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_an_unknown_api_path_is_a_404_problem_whatever_the_method(
    edge_api: Api, method: str
) -> None:
    response = edge_api.client.request(method, "/v1/nowhere", headers=edge_api.headers("admin"))
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/messages"),
        ("POST", "/v1/classify"),
        ("PUT", "/v1/agents/a-1"),
        ("POST", "/v1/conversations/c-1/close"),
        ("POST", "/v1/admin/clock"),
    ],
)
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_a_415(
    edge_api: Api, method: str, path: str, content_type: str | None
) -> None:
    api = edge_api
    headers = api.headers("admin")
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = api.client.request(method, path, content=b'{"status": "away"}', headers=headers)
    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == PROBLEM


def test_an_unexpected_error_answers_a_500_problem_and_keeps_the_connection(
    tmp_path: Path, engine_rules: EngineRules
) -> None:
    settings = manual_settings(tmp_path)
    issue_tokens(settings.db_url)
    app = create_app(settings, rules=table_rules(engine_rules))

    async def fails() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/v1/failing", fails, methods=["GET"])
    app.router.routes.insert(0, app.router.routes.pop())  # before the desk's catch-all
    with LiveServer(app) as server, socket.create_connection(("127.0.0.1", server.port)) as s:
        stream = s.makefile("rb")
        first = _exchange(s, stream, "GET /v1/failing")
        assert first.startswith(b"HTTP/1.1 500"), first
        assert b"content-type: application/problem+json" in first.lower()
        assert b'"type":"https://tidal.dev/problems/internal"' in first
        second = _exchange(s, stream, "GET /healthz")  # same connection
        assert second.startswith(b"HTTP/1.1 200"), second


def _exchange(s: socket.socket, stream: Any, request_line: str) -> bytes:
    """One HTTP/1.1 request on an open connection and its whole response."""
    s.sendall(f"{request_line} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = stream.readline()
        assert line, f"connection closed after {head!r}"
        head += line
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head + stream.read(length)
