"""POST /v1/messages and /v1/classify over HTTP (docs/http-api.md)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.conftest import Api
from tidal.service.http.routes.schemas import ClassificationOut, MessageOut

PROBLEM = "application/problem+json"


def _offer_more_help_then_decline(api: Api) -> Any:
    api.put_agent("a-7", preferred_concurrency=2, max_concurrency=4)
    first = api.message(
        "m-1000", "c-42", "my card is blocked", channel="sms", customer_id="cust-7", skills=[]
    )
    assert first.json()["routing"] == {"agent_id": "a-7", "reason": "least_loaded"}
    api.message(
        "m-1000b",
        "c-42",
        "Is there anything else I can help you with?",
        direction="outbound",
        agent_id="a-7",
    )
    return api.message(
        "m-1001",
        "c-42",
        "No, that's all, thanks!",
        sent_at="2026-11-25T10:04:00Z",
        channel="sms",
        customer_id="cust-7",
    )


def test_no_thanks_after_offer_of_more_help_answers_in_the_spec_shape(api: Api) -> None:
    response = _offer_more_help_then_decline(api)
    assert response.status_code == 200
    body = response.json()
    MessageOut.model_validate(body)
    assert body == {
        "message_id": "m-1001",
        "conversation_id": "c-42",
        "duplicate": False,
        "classification": {
            "intent": "deny",
            "confidence": 0.97,
            "source": "model",
            "rule_id": None,
            "model_version": "test-model-1",
            "alternatives": [{"intent": "other", "confidence": 0.02}],
        },
        "decision": {
            "action": "close",
            "rule_id": "close-when-no-more-help-needed",
            "reason": "customer_declined_more_help",
        },
        "conversation": {
            "id": "c-42",
            "state": "closed",
            "awaiting": None,
            "agent_id": None,
            "last_agent_id": "a-7",
            "respond_by": None,
            "priority": None,
        },
        "routing": {"agent_id": None, "reason": "closed"},
    }


def test_an_open_conversation_answers_with_its_priority(api: Api) -> None:
    body = api.message("m-1", "c-1", "where is my parcel?").json()
    MessageOut.model_validate(body)
    assert body["conversation"]["state"] == "queued"
    assert body["routing"]["reason"] == "queued"
    priority = body["conversation"]["priority"]
    assert priority["respond_by"] == body["conversation"]["respond_by"]
    assert priority["target_seconds"] > 0


def test_posting_a_message_id_again_returns_the_first_answer_marked_duplicate(api: Api) -> None:
    api.put_agent("a-1")
    first = api.message("m-1", "c-1", "where is my parcel?").json()
    api.message("m-2", "c-1", "this is urgent")
    again = api.message("m-1", "c-1", "a different text, same id")
    assert again.status_code == 200
    assert again.json() == {**first, "duplicate": True}
    detail = api.client.get("/v1/conversations/c-1", headers=api.headers("service")).json()
    assert [d["message_id"] for d in detail["recent_decisions"]] == ["m-2", "m-1"]


def _assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://tidal.dev/problems/{slug}"
    assert body["status"] == status
    return body


def _assert_unchanged(api: Api) -> None:
    missing = api.client.get("/v1/conversations/c-9", headers=api.headers("service"))
    _assert_problem(missing, 404, "not-found")


def test_outbound_without_agent_is_refused_and_changes_nothing(api: Api) -> None:
    response = api.message("m-1", "c-9", "hello", direction="outbound")
    body = _assert_problem(response, 422, "outbound-without-agent")
    assert body["code"] == "outbound_without_agent"
    _assert_unchanged(api)


def test_outbound_from_an_unknown_agent_is_refused_and_changes_nothing(api: Api) -> None:
    response = api.message("m-1", "c-9", "hello", direction="outbound", agent_id="nobody")
    _assert_problem(response, 422, "unknown-agent")
    _assert_unchanged(api)


def test_missing_fields_are_listed_in_the_problem(api: Api) -> None:
    response = api.client.post(
        "/v1/messages", json={"message_id": "m-1"}, headers=api.headers("service")
    )
    body = _assert_problem(response, 422, "validation")
    missing = {tuple(e["loc"]) for e in body["errors"]}
    assert {("body", "conversation_id"), ("body", "direction"), ("body", "text")} <= missing
    _assert_unchanged(api)


def test_an_unknown_direction_is_refused(api: Api) -> None:
    response = api.message("m-1", "c-9", "hi", direction="sideways")
    _assert_problem(response, 422, "validation")
    _assert_unchanged(api)


def test_text_over_64_kib_is_refused_and_changes_nothing(api: Api) -> None:
    response = api.message("m-1", "c-9", "x" * (64 * 1024 + 1))
    body = _assert_problem(response, 422, "validation")
    assert body["errors"][0]["loc"] == ["body", "text"]
    _assert_unchanged(api)


def test_text_of_exactly_64_kib_is_accepted(api: Api) -> None:
    assert api.message("m-1", "c-8", "x" * (64 * 1024)).status_code == 200


def test_a_body_over_1_mib_is_refused_before_parsing(api: Api) -> None:
    payload = (
        b'{"message_id": "m-1", "conversation_id": "c-9", "direction": "inbound", '
        b'"text": "' + b"x" * (1024 * 1024) + b'"}'
    )
    response = api.client.post(
        "/v1/messages",
        content=payload,
        headers={**api.headers("service"), "Content-Type": "application/json"},
    )
    _assert_problem(response, 413, "payload-too-large")
    _assert_unchanged(api)


def test_malformed_json_is_a_400_problem_and_changes_nothing(api: Api) -> None:
    response = api.client.post(
        "/v1/messages",
        content=b'{"message_id": "m-1", "text": ',
        headers={**api.headers("service"), "Content-Type": "application/json"},
    )
    _assert_problem(response, 400, "malformed-json")
    _assert_unchanged(api)


def test_naive_sent_at_is_refused(api: Api) -> None:
    response = api.message("m-1", "c-9", "hi", sent_at="2026-11-25T10:00:00")
    _assert_problem(response, 422, "validation")
    _assert_unchanged(api)


def test_classify_answers_without_changing_anything(api: Api) -> None:
    response = api.client.post(
        "/v1/classify",
        json={"text": "thanks!", "direction": "inbound"},
        headers=api.headers("service"),
    )
    assert response.status_code == 200
    ClassificationOut.model_validate(response.json())
    assert response.json()["intent"] == "gratitude"
    queue = api.client.get("/v1/queue", headers=api.headers("supervisor")).json()
    assert queue == {"conversations": []}


def test_thanks_does_not_wake_a_paused_conversation(api: Api) -> None:
    api.put_agent("a-1")
    api.message("m-1", "c-1", "my card is blocked")
    api.message("m-2", "c-1", "in a meeting, will text you later")
    body = api.message("m-3", "c-1", "thanks!").json()
    assert body["decision"]["action"] == "ignore"
    assert body["conversation"]["state"] == "inactive"
    assert body["routing"]["reason"] == "unchanged"


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/classify"])
def test_json_nested_deeper_than_any_reader_recurses_is_a_400_problem(api: Api, path: str) -> None:
    for nested in (b"[" * 50_000, b'{"a":' * 50_000):
        response = api.client.post(
            path,
            content=nested,
            headers={**api.headers("service"), "Content-Type": "application/json"},
        )
        _assert_problem(response, 400, "malformed-json")
    _assert_unchanged(api)


def test_an_agent_body_nested_too_deep_is_a_400_problem(api: Api) -> None:
    response = api.client.put(
        "/v1/agents/a-1",
        content=b'{"skills":' + b"[" * 50_000,
        headers={**api.headers("supervisor"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
