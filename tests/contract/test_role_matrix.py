"""The role matrix (docs/http-api.md): every operation × every caller — each role's token, the
agent acting on its own agent and on another agent's, no token, a bad token, and a
revoked token of each role — answers as the table says: 2xx when allowed, 403
`forbidden` for a role or agent that may not, 401 `unauthorized` without a valid
token."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.conftest import T0, LiveServer, issue_tokens, manual_settings, table_rules
from tidal.engine.rulesio.bundle import EngineRules
from tidal.service.http.app import create_app
from tidal.service.persistence.store import DurableStore
from tidal.service.persistence.tokens import revoke_token
from tidal.service.tokens import Role, hash_token

ROLES = ("service", "supervisor", "admin")
#: the agent token acting on its own agent (a-1), and on another's (a-2's token, a-1's data)
OWN, OTHER = "agent", "other agent"
UNAUTHENTICATED = ("no token", "bad token", *(f"revoked {r}" for r in (*ROLES, "agent")))
CALLERS = (*ROLES, OWN, OTHER, *UNAUTHENTICATED)
ANY_TOKEN = frozenset({*ROLES, OWN, OTHER})


@dataclass(frozen=True)
class Operation:
    method: str
    #: `{agent}` is a-1, `{conversation}` one of a-1's conversations, `{token}` a token
    path: str
    allowed: frozenset[str]
    body: Callable[[World], dict[str, Any]] | None = None
    stream: bool = False


def _message(world: World) -> dict[str, Any]:
    n = next(world.serial)
    return {"message_id": f"m-x{n}", "conversation_id": f"c-x{n}", "direction": "inbound",
            "text": "thanks!"}  # fmt: skip


def _clock(world: World) -> dict[str, Any]:
    return {"now": (T0 + timedelta(seconds=next(world.serial))).isoformat()}


OPERATIONS = [
    Operation("POST", "/v1/messages", frozenset({"service"}), _message),
    Operation("POST", "/v1/classify", frozenset({"service"}),
              lambda w: {"text": "bye", "direction": "inbound"}),
    Operation("GET", "/v1/conversations/{conversation}",
              frozenset({"service", "supervisor", "admin", OWN})),
    Operation("POST", "/v1/conversations/{conversation}/close",
              frozenset({"service", "supervisor", "admin", OWN}), lambda w: {"reason": "resolved"}),
    Operation("POST", "/v1/conversations/{conversation}/inactivate",
              frozenset({"supervisor", "admin", OWN}), lambda w: {"reason": "paused"}),
    Operation("GET", "/v1/me", ANY_TOKEN),
    Operation("GET", "/v1/agents", frozenset({"supervisor", "admin"})),
    Operation("GET", "/v1/agents/{agent}", frozenset({"supervisor", "admin", OWN})),
    Operation("PUT", "/v1/agents/{agent}", frozenset({"supervisor", "admin", OWN}),
              lambda w: {"status": "available"}),
    Operation("GET", "/v1/agents/{agent}/conversations", frozenset({"supervisor", "admin", OWN})),
    Operation("POST", "/v1/agents/{agent}/take", frozenset({"supervisor", "admin", OWN})),
    Operation("GET", "/v1/queue", frozenset({"supervisor", "admin"})),
    Operation("GET", "/v1/agents/{agent}/events", frozenset({"supervisor", "admin", OWN}),
              stream=True),
    Operation("GET", "/v1/events", frozenset({"supervisor", "admin"}), stream=True),
    Operation("POST", "/v1/admin/rules/reload", frozenset({"admin"})),
    Operation("POST", "/v1/admin/clock", frozenset({"admin"}), _clock),
    Operation("GET", "/v1/admin/tokens", frozenset({"admin"})),
    Operation("DELETE", "/v1/admin/tokens/{token}", frozenset({"admin"})),
]  # fmt: skip


@dataclass
class World:
    """A running service with a-1 (takes all new work), a-2 (away), and tokens."""

    client: httpx.Client
    tokens: dict[str, str]
    spare_token_ids: list[int]
    serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def headers(self, caller: str) -> dict[str, str]:
        token = {
            "no token": None,
            "bad token": "tidal_" + "x" * 43,
            OWN: self.tokens["a-1"],
            OTHER: self.tokens["a-2"],
        }.get(caller, self.tokens.get(caller))
        return {} if token is None else {"Authorization": f"Bearer {token}"}

    def conversation_of_a1(self) -> str:
        """A new conversation assigned to a-1."""
        n = next(self.serial)
        answer = self.client.post(
            "/v1/messages",
            json={"message_id": f"m-own{n}", "conversation_id": f"c-own{n}",
                  "direction": "inbound", "text": "my card is blocked"},
            headers=self.headers("service"),
        )  # fmt: skip
        assert answer.json()["routing"]["agent_id"] == "a-1", answer.text
        return f"c-own{n}"

    def url(self, operation: Operation) -> str:
        path = operation.path.replace("{agent}", "a-1")
        if "{conversation}" in path:
            path = path.replace("{conversation}", self.conversation_of_a1())
        if "{token}" in path:
            path = path.replace("{token}", str(self.spare_token_ids.pop()))
        return path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, engine_rules: EngineRules) -> Iterator[World]:
    tmp_path: Path = tmp_path_factory.mktemp("matrix")
    settings = manual_settings(tmp_path)
    tokens = issue_tokens(settings.db_url)
    store = DurableStore(settings.db_url)
    for role in (*ROLES, "agent"):
        revoked = store.create_token(Role(role), agent_id="a-1" if role == "agent" else None)
        principal = store.principal_for(hash_token(revoked))
        assert principal is not None
        revoke_token(store.engine, principal.token_id)
        tokens[f"revoked {role}"] = revoked
    spare = []
    for _ in range(len(CALLERS)):
        principal = store.principal_for(hash_token(store.create_token(Role.SERVICE)))
        assert principal is not None
        spare.append(principal.token_id)
    store.close()
    app = create_app(settings, rules=table_rules(engine_rules), access_log=False)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        supervisor = {"Authorization": f"Bearer {tokens['supervisor']}"}
        for agent, status in (("a-1", "available"), ("a-2", "away")):
            body = {"status": status, "preferred_concurrency": 1000, "max_concurrency": 1000}
            client.put(f"/v1/agents/{agent}", json=body, headers=supervisor).raise_for_status()
        yield World(client, tokens, spare)


def _expected(operation: Operation, caller: str) -> int:
    if caller in UNAUTHENTICATED:
        return 401
    return 200 if caller in operation.allowed else 403


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: f"{o.method} {o.path}")
def test_every_operation_answers_every_caller_as_the_role_table_says(
    world: World, operation: Operation, caller: str
) -> None:
    url = world.url(operation)
    kwargs: dict[str, Any] = {"headers": world.headers(caller)}
    if operation.body is not None:
        kwargs["json"] = operation.body(world)
    with world.client.stream(operation.method, url, **kwargs) as response:
        status = response.status_code
        if status >= 400 or not operation.stream:
            response.read()
        expected = _expected(operation, caller)
        detail = f"{caller}: {operation.method} {url} -> {status}"
        assert status == expected, (
            f"{detail}: {response.text if response.is_stream_consumed else ''}"
        )
        if status == 401:
            assert response.json()["type"] == "https://tidal.dev/problems/unauthorized"
            assert response.headers["www-authenticate"].startswith("Bearer")
        elif status == 403:
            assert response.json()["type"] == "https://tidal.dev/problems/forbidden"
        elif operation.stream:
            assert response.headers["content-type"].startswith("text/event-stream")


def test_the_matrix_covers_every_documented_operation(world: World) -> None:
    documented = {
        (method.upper(), path)
        for path, operations in world.client.get("/openapi.json").json()["paths"].items()
        for method in operations
        if path.startswith("/v1/")
    }
    covered = {
        (o.method, o.path.replace("{agent}", "{agent_id}")
         .replace("{conversation}", "{conversation_id}").replace("{token}", "{token_id}"))
        for o in OPERATIONS
    }  # fmt: skip
    assert covered == documented
