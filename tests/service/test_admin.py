"""Rule reloads (valid and invalid sets), the clock on a wall-clock service, OpenAPI."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import (
    MODELS_DIR,
    RULES_DIR,
    Api,
    LiveServer,
    issue_tokens,
    manual_settings,
    table_rules,
)
from tidal.engine.rulesio.bundle import load_engine_rules
from tidal.service.config import Settings
from tidal.service.http.app import create_app
from tidal.service.running.rules import load_active_rules


@pytest.fixture(scope="module")
def rules_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("rules") / "rules"
    shutil.copytree(RULES_DIR, target)
    return target


@pytest.fixture
def real_api(tmp_path: Path, rules_copy: Path) -> Iterator[Api]:
    """The app with the real classifier and a rules directory the test may edit."""
    rules_dir = tmp_path / "rules"
    shutil.copytree(rules_copy, rules_dir)
    settings = manual_settings(tmp_path, rules_dir=rules_dir, models_dir=MODELS_DIR)
    tokens = issue_tokens(settings.db_url)
    app = create_app(settings, rules=load_active_rules(rules_dir, MODELS_DIR, generation=1))
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        yield Api(client, settings.db_url, tokens)


def _reload(api: Api) -> httpx.Response:
    return api.client.post("/v1/admin/rules/reload", headers=api.headers("admin"))


def test_a_valid_rule_set_is_swapped_in(real_api: Api, tmp_path: Path) -> None:
    workflow = tmp_path / "rules" / "workflow.yaml"
    # customers' thanks now reopen the conversation instead of being ignored
    text = workflow.read_text()
    assert "do: ignore" in text
    workflow.write_text(text.replace("do: ignore", "do: activate", 1))
    real_api.put_agent("a-1")
    before = real_api.message("m-1", "c-1", "thanks!").json()
    assert before["decision"]["action"] == "ignore"
    response = _reload(real_api)
    assert response.status_code == 200, response.text
    assert response.json()["generation"] == 2
    after = real_api.message("m-2", "c-2", "thanks!").json()
    assert after["decision"]["action"] == "activate"


def test_an_invalid_rule_set_is_refused_with_every_error_and_the_old_one_keeps_serving(
    real_api: Api, tmp_path: Path
) -> None:
    rules_dir = tmp_path / "rules"
    (rules_dir / "workflow.yaml").write_text(
        "version: 1\nrules:\n  - id: x\n    when: {direction: sideways}\n    do: explode\n"
    )
    (rules_dir / "routing.yaml").write_text("version: 1\nnot_a_setting: 3\n")
    response = _reload(real_api)
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "https://tidal.dev/problems/rules-invalid"
    errors = body["errors"]
    assert any(e.startswith(f"{rules_dir / 'workflow.yaml'}:") for e in errors), errors
    assert any(e.startswith(f"{rules_dir / 'routing.yaml'}:") for e in errors), errors
    assert all(e.split(":")[1].isdigit() for e in errors)  # path:line: ...
    served = real_api.message("m-1", "c-1", "STOP")
    assert served.status_code == 200
    assert served.json()["decision"]["reason"] == "opted_out"


def test_no_message_fails_during_a_reload(real_api: Api) -> None:
    real_api.put_agent("a-1")
    statuses: list[int] = []
    done = threading.Event()

    def send() -> None:
        with httpx.Client(base_url=str(real_api.client.base_url), timeout=60) as client:
            i = 0
            while not done.is_set() or i < 20:
                body = {
                    "message_id": f"m-{i}",
                    "conversation_id": f"c-{i % 7}",
                    "direction": "inbound",
                    "text": "where is my parcel?",
                }
                statuses.append(
                    client.post(
                        "/v1/messages", json=body, headers=real_api.headers("service")
                    ).status_code
                )
                i += 1

    sender = threading.Thread(target=send)
    sender.start()
    try:
        for _ in range(2):
            assert _reload(real_api).status_code == 200
    finally:
        done.set()
        sender.join()
    assert statuses and set(statuses) == {200}


def test_setting_the_clock_of_a_wall_clock_service_is_a_409(tmp_path: Path) -> None:
    from tests.service.conftest import (
        TextTableClassifier,  # noqa: F401  (fixture module)
    )

    settings: Settings = manual_settings(tmp_path, clock="wall", clock_start=None)
    tokens = issue_tokens(settings.db_url)
    app = create_app(settings, rules=table_rules(load_engine_rules(RULES_DIR)))
    with LiveServer(app) as server, httpx.Client(base_url=server.url) as client:
        response = client.post(
            "/v1/admin/clock",
            json={"now": "2030-01-01T00:00:00Z"},
            headers={"Authorization": f"Bearer {tokens['admin']}"},
        )
        health = client.get("/healthz").json()
    assert response.status_code == 409
    assert response.json()["type"] == "https://tidal.dev/problems/clock-not-manual"
    assert health["clock"] == "wall"


def test_openapi_documents_every_endpoint_and_error(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    paths = doc["paths"]
    expected = {
        ("post", "/v1/messages"),
        ("post", "/v1/classify"),
        ("get", "/v1/conversations/{conversation_id}"),
        ("post", "/v1/conversations/{conversation_id}/close"),
        ("post", "/v1/conversations/{conversation_id}/inactivate"),
        ("put", "/v1/agents/{agent_id}"),
        ("get", "/v1/agents/{agent_id}"),
        ("get", "/v1/agents/{agent_id}/conversations"),
        ("post", "/v1/agents/{agent_id}/take"),
        ("get", "/v1/agents"),
        ("get", "/v1/queue"),
        ("get", "/v1/agents/{agent_id}/events"),
        ("get", "/v1/events"),
        ("post", "/v1/admin/rules/reload"),
        ("post", "/v1/admin/clock"),
        ("get", "/healthz"),
        ("get", "/metrics"),
    }
    assert expected <= {(m, p) for p, ops in paths.items() for m in ops}
    messages = paths["/v1/messages"]["post"]
    assert messages["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/MessageIn"
    )
    assert {"400", "401", "403", "413", "422"} <= set(messages["responses"])
    schemas = doc["components"]["schemas"]
    assert "ProblemDetail" in schemas and "MessageIn" in schemas
    for name in ("MessageIn", "MessageOut", "ConversationOut", "AgentOut"):
        for field, spec in schemas[name]["properties"].items():
            assert spec, (name, field)
    for field in schemas["MessageIn"]["properties"].values():
        assert field.get("description"), field


def test_metrics_and_health_need_no_token(api: Api) -> None:
    api.put_agent("a-1")
    api.message("m-1", "c-1", "my card is blocked")
    metrics = api.client.get("/metrics")
    assert metrics.status_code == 200
    text = metrics.text
    for name in (
        "tidal_http_requests_total",
        "tidal_decisions_total",
        "tidal_queue_length",
        "tidal_agent_load",
        "tidal_timer_lag_seconds",
        "tidal_commit_batch_requests",
        "tidal_http_request_duration_seconds",
    ):
        assert name in text
    assert 'tidal_agent_load{agent_id="a-1"} 1.0' in text
    assert api.client.get("/healthz").json()["status"] == "ok"


def test_the_desk_is_served_at_the_root_and_under_desk(api: Api) -> None:
    root = api.client.get("/")
    desk = api.client.get("/desk/")
    assert root.status_code == desk.status_code == 200
    assert "text/html" in root.headers["content-type"]
    assert root.text == desk.text
    assert api.client.get("/desk/nothing-here.js").status_code == 404
