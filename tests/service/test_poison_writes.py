"""Writes the database cannot store, sent through the API: each is answered with a
problem on its own, the service keeps serving, and a retry meets the same answer.

These bodies are built by hand (raw JSON text), as a hostile client sends them. Two
defences stand in the way: validation at the edge, then the writer, which isolates any
write the database refuses (`tidal.service.running.write_faults`); `test_write_faults` tests the
writer's alone, against a fake store, for kinds of failure the edge lets through.
"""

from __future__ import annotations

import httpx

from tests.service.conftest import Api


def _put_raw(api: Api, path: str, body: str) -> httpx.Response:
    return api.client.put(
        path,
        content=body.encode(),
        headers={**api.headers("supervisor"), "Content-Type": "application/json"},
    )


def _post_message_raw(api: Api, body: str) -> httpx.Response:
    return api.client.post(
        "/v1/messages",
        content=body.encode(),
        headers={**api.headers("service"), "Content-Type": "application/json"},
    )


def _still_serving(api: Api) -> None:
    assert api.client.get("/healthz").json()["status"] == "ok"
    assert api.client.get("/v1/agents", headers=api.headers("supervisor")).status_code == 200
    assert api.put_agent("a-healthy").status_code == 200


def test_poison_skill_surrogate_is_a_4xx_and_the_service_keeps_serving(api: Api) -> None:
    for _retry in range(2):
        answer = _put_raw(api, "/v1/agents/ag-x", '{"skills": ["a\\ud800"]}')
        assert 400 <= answer.status_code < 500, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        _still_serving(api)
    missing = api.client.get("/v1/agents/ag-x", headers=api.headers("supervisor"))
    assert missing.status_code == 404


def test_poison_surrogates_in_message_fields_are_4xx_and_the_id_stays_usable(api: Api) -> None:
    for field in ("text", "customer_id", "channel"):
        body = (
            '{"message_id": "m-1", "conversation_id": "c-1", "direction": "inbound", '
            f'"text": "hello", "{field}": "x\\udc00y"}}'
        ).replace('"text": "hello", "text"', '"text"')
        answer = _post_message_raw(api, body)
        assert 400 <= answer.status_code < 500, (field, answer.text)
        _still_serving(api)
    # nothing of m-1 was kept: sent clean, it is a new message
    clean = api.message("m-1", "c-1", "hello")
    assert clean.status_code == 200 and not clean.json()["duplicate"]
