"""Listing and revoking tokens: `tidal token list` never shows a secret, and a revoked
token is refused by a running service within 5 seconds (at once when revoked through
that service's API)."""

from __future__ import annotations

import time

import orjson
from typer.testing import CliRunner

from tests.service.conftest import Api
from tidal.service.cli import app as tidal
from tidal.service.persistence.store import DurableStore
from tidal.service.tokens import hash_token

UNAUTHORIZED = "https://tidal.dev/problems/unauthorized"
#: what the service promises for a token revoked elsewhere (`tidal token revoke`)
REVOCATION_BOUND_SECONDS = 5.0


def _ids(api: Api) -> dict[str, int]:
    """The id of each of the fixture's tokens."""
    store = DurableStore(api.db_url)
    try:
        found = {}
        for who, token in api.tokens.items():
            principal = store.principal_for(hash_token(token))
            assert principal is not None
            found[who] = principal.token_id
        return found
    finally:
        store.close()


def test_token_list_shows_each_token_and_never_a_secret(api: Api) -> None:
    runner = CliRunner()
    table = runner.invoke(tidal, ["token", "list", "--db", api.db_url])
    assert table.exit_code == 0, table.output
    as_json = runner.invoke(tidal, ["token", "list", "--db", api.db_url, "--json"])
    assert as_json.exit_code == 0, as_json.output
    rows = [orjson.loads(line) for line in as_json.output.splitlines()]
    assert sorted((r["role"], r["agent_id"]) for r in rows) == sorted(
        [
            ("service", None),
            ("supervisor", None),
            ("admin", None),
            ("agent", "a-1"),
            ("agent", "a-2"),
        ]
    )
    assert all(set(r) == {"id", "role", "agent_id", "label", "created_at", "revoked"} for r in rows)
    over_http = api.client.get("/v1/admin/tokens", headers=api.headers("admin"))
    assert over_http.status_code == 200
    for output in (table.output, as_json.output, over_http.text):
        for token in api.tokens.values():
            assert token not in output and hash_token(token) not in output
            assert token.removeprefix("tidal_")[:8] not in output


def test_a_token_revoked_with_the_cli_is_refused_by_the_running_service_within_5_s(
    api: Api,
) -> None:
    agent = api.headers("a-1")
    assert api.client.get("/v1/me", headers=agent).status_code == 200  # cached from here on
    revoked = CliRunner().invoke(
        tidal, ["token", "revoke", str(_ids(api)["a-1"]), "--db", api.db_url]
    )
    assert revoked.exit_code == 0, revoked.output
    started = time.monotonic()
    while (answer := api.client.get("/v1/me", headers=agent)).status_code == 200:
        assert time.monotonic() - started < REVOCATION_BOUND_SECONDS, "still accepted"
        time.sleep(0.05)
    assert answer.status_code == 401 and answer.json()["type"] == UNAUTHORIZED
    # the other tokens keep working, and the listing says which one is revoked
    assert api.client.get("/v1/me", headers=api.headers("a-2")).status_code == 200
    listed = api.client.get("/v1/admin/tokens", headers=api.headers("admin")).json()["tokens"]
    assert [t["agent_id"] for t in listed if t["revoked"]] == ["a-1"]


def test_a_token_revoked_through_the_api_is_refused_at_once(api: Api) -> None:
    service = api.headers("service")
    assert api.client.get("/v1/me", headers=service).status_code == 200
    token_id = _ids(api)["service"]
    answer = api.client.delete(f"/v1/admin/tokens/{token_id}", headers=api.headers("admin"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["revoked"] is True and answer.json()["role"] == "service"
    refused = api.client.post(
        "/v1/messages",
        json={"message_id": "m-1", "conversation_id": "c-1", "direction": "inbound", "text": "hi"},
        headers=service,
    )
    assert refused.status_code == 401
    again = api.client.delete(f"/v1/admin/tokens/{token_id}", headers=api.headers("admin"))
    assert again.status_code == 200 and again.json()["revoked"] is True  # idempotent


def test_revoking_a_token_that_does_not_exist_is_a_404_or_a_usage_error(api: Api) -> None:
    answer = api.client.delete("/v1/admin/tokens/999", headers=api.headers("admin"))
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    cli = CliRunner().invoke(tidal, ["token", "revoke", "999", "--db", api.db_url])
    assert cli.exit_code == 2 and "no token with id 999" in cli.output
    not_a_number = CliRunner().invoke(tidal, ["token", "revoke", "x", "--db", api.db_url])
    assert not_a_number.exit_code == 2


def test_only_admins_list_or_revoke_tokens(api: Api) -> None:
    for who in ("service", "supervisor", "a-1"):
        listed = api.client.get("/v1/admin/tokens", headers=api.headers(who))
        assert listed.status_code == 403, who
        revoked = api.client.delete("/v1/admin/tokens/1", headers=api.headers(who))
        assert revoked.status_code == 403, who
    assert all(not t["revoked"] for t in _listed(api))


def _listed(api: Api) -> list[dict[str, object]]:
    tokens: list[dict[str, object]] = api.client.get(
        "/v1/admin/tokens", headers=api.headers("admin")
    ).json()["tokens"]
    return tokens


def test_an_agent_token_for_an_id_outside_the_policy_is_a_usage_error(api: Api) -> None:
    made = CliRunner().invoke(
        tidal, ["token", "create", "--role", "agent", "--agent", "a b", "--db", api.db_url]
    )
    assert made.exit_code == 2, made.output
    assert len(_listed(api)) == len(api.tokens)
