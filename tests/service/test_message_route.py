"""POST /v1/messages is answered outside the framework's layers (`tidal.service.http.hot_route`):
it keeps the limits, the problem responses, the metrics and the access log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from tests.service.conftest import (
    MODELS_DIR,
    RULES_DIR,
    Api,
    LiveServer,
    TextTableClassifier,
    issue_tokens,
)
from tidal.engine.core.intents import Classification, Direction
from tidal.engine.rulesio.bundle import EngineRules
from tidal.service.config import Settings
from tidal.service.http.app import create_app
from tidal.service.running.rules import ActiveRules

PROBLEM = "application/problem+json"


def test_a_chunked_body_over_1_mib_is_refused_while_reading(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"message_id": "m-1", "conversation_id": "c-9", "direction": "inbound", '
        yield b'"text": "'
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}'

    response = api.client.post(
        "/v1/messages",
        content=chunks(),
        headers={**api.headers("service"), "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "https://tidal.dev/problems/payload-too-large"
    missing = api.client.get("/v1/conversations/c-9", headers=api.headers("service"))
    assert missing.status_code == 404


def test_a_malformed_authorization_header_is_a_401_with_a_bearer_challenge(api: Api) -> None:
    response = api.client.post(
        "/v1/messages",
        json={"message_id": "m-1"},
        headers={"Authorization": f"Basic {api.tokens['service']}"},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="tidal"'
    assert response.json()["instance"] == "/v1/messages"


def test_message_requests_are_counted_by_status_and_logged_without_the_token(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tidal.access")
    assert api.message("m-1", "c-1", "my card is blocked").status_code == 200
    assert api.message("m-2", "c-1", "hi", direction="sideways").status_code == 422
    unknown = api.client.post(
        "/v1/messages", json={}, headers={"Authorization": "Bearer tidal_not-a-token"}
    )
    assert unknown.status_code == 401

    metrics = api.client.get("/metrics").text
    for status in ("200", "422", "401"):
        assert (
            f'tidal_http_requests_total{{method="POST",route="/v1/messages",status="{status}"}} 1.0'
        ) in metrics
    assert (
        'tidal_http_request_duration_seconds_count{method="POST",route="/v1/messages"} 3.0'
        in metrics
    )
    logged = [
        (r.__dict__["path"], r.__dict__["status"])
        for r in caplog.records
        if r.name == "tidal.access" and r.__dict__["path"] == "/v1/messages"
    ]
    assert logged == [("/v1/messages", 200), ("/v1/messages", 422), ("/v1/messages", 401)]
    assert api.tokens["service"] not in caplog.text
    assert "tidal_not-a-token" not in caplog.text


class FailingClassifier(TextTableClassifier):
    """Fails on one text, as a broken model would."""

    def classify(self, text: str, direction: Direction) -> Classification:
        if text == "explode":
            raise RuntimeError("the model fell over")
        return super().classify(text, direction)


def test_an_unexpected_error_is_a_500_problem_and_the_service_keeps_serving(
    settings: Settings, engine_rules: EngineRules, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = issue_tokens(settings.db_url)
    rules = ActiveRules(1, FailingClassifier(), engine_rules, RULES_DIR, MODELS_DIR)
    app = create_app(settings, rules=rules)
    headers = {"Authorization": f"Bearer {tokens['service']}"}
    body = {"message_id": "m-1", "conversation_id": "c-1", "direction": "inbound"}
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        failed = client.post("/v1/messages", json={**body, "text": "explode"}, headers=headers)
        assert failed.status_code == 500
        assert failed.headers["content-type"] == PROBLEM
        assert failed.json()["type"] == "https://tidal.dev/problems/internal"
        assert any(r.name == "tidal.app" and r.levelname == "ERROR" for r in caplog.records)
        fine = client.post("/v1/messages", json={**body, "text": "hello"}, headers=headers)
        assert fine.status_code == 200
        assert fine.json()["duplicate"] is False
