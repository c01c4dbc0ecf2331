"""Random Unicode into every text and id field: the service always answers (200 or a
422 problem, never a 5xx), stores exactly what it acknowledged, and its memory equals
its database afterwards.

The strings mix everything hostile clients send: lone surrogates (sent as the `\\udXXX`
escapes JSON allows), NUL and other controls, emoji with modifiers and joiners,
right-to-left text and overrides, combining marks, byte order marks, noncharacters,
and runs up to and just past the 64 KiB text limit. `TIDAL_FUZZ_EXAMPLES` sets the
number of examples per test (`scripts/contract` runs 500).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.service.conftest import Api, LiveServer, issue_tokens, manual_settings, table_rules
from tests.service.databases import database
from tests.service.state import differences, stored_message_ids
from tidal.engine.rulesio.bundle import EngineRules
from tidal.service.config import MAX_TEXT_BYTES
from tidal.service.http.app import create_app

EXAMPLES = int(os.environ.get("TIDAL_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

PIECES = [
    "\x00", "\ud800", "\udbff", "\udc00", "\udfff", "\x01", "\x1b", "\x7f", "\x85", "\x9f",
    "\t", "\n", "\r", "\u2028", "\u2029", "\u200b", "\u200d", "\u200e", "\u200f",
    "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff", "\ufffe", "\uffff", "\ufffd",
    "\u0301", "\u0489", "\u0e49", "\U0001f600", "\U0001f44d\U0001f3fd",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f1eb\U0001f1f7", "\u0645\u0631\u062d",
    "\u05e9\u05dc", "\u4e2d\u6587", "\U00010348", "\U0010ffff", "/", "%00", "..", " ", "a",
    "m-1", "c-1", "a-1", "\\", '"', "'", "<script>", "${x}", "{{x}}",
]  # fmt: skip
#: any code point at all, surrogates included
ANY_CHARACTER = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
HOSTILE = st.one_of(
    st.text(ANY_CHARACTER, max_size=40),
    st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
    st.text(st.characters(codec="ascii"), min_size=1, max_size=300),
)


@st.composite
def long_texts(draw: st.DrawFn) -> str:
    """Texts near the size limit, on either side of it."""
    piece = draw(st.sampled_from([*PIECES, "\U0001f600", "\u0301"]))
    size = max(1, len(piece.encode("utf-8", "surrogatepass")))
    target = MAX_TEXT_BYTES + draw(st.integers(-8, 8))
    return piece * (target // size) + draw(st.sampled_from(["", "x", "\u00e9"]))


TEXTS = st.one_of(HOSTILE, long_texts())
ID_FIELDS = ("message_id", "conversation_id", "customer_id", "agent_id")


def raw_json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=True).encode()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def fuzz_api(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    engine_rules: EngineRules,
) -> Iterator[Api]:
    tmp_path: Path = tmp_path_factory.mktemp("fuzz")
    with database(request.param, tmp_path) as db_url:
        settings_ = manual_settings(tmp_path, db_url=db_url)
        tokens = issue_tokens(settings_.db_url)
        app = create_app(settings_, rules=table_rules(engine_rules), access_log=False)
        with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as client:
            api = Api(client, settings_.db_url, tokens, server, app)
            answer = api.put_agent("a-1", preferred_concurrency=1000, max_concurrency=1000)
            assert answer.is_success
            yield api


def _post(api: Api, method: str, path: str, body: Any, who: str) -> httpx.Response:
    headers = {**api.headers(who), "Content-Type": "application/json"}
    return api.client.request(method, path, content=raw_json(body), headers=headers)


def _check_answer(response: httpx.Response, *allowed: int) -> None:
    assert response.status_code in allowed, response.text[:2000]
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == response.status_code


def _still_serving(api: Api) -> None:
    health = api.client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok", health.text
    assert differences(api) == []


_serial = iter(range(10**9))


@FUZZ
@given(
    field=st.sampled_from((*ID_FIELDS, "text", "channel", "skills")),
    value=TEXTS,
    direction=st.sampled_from(["inbound", "outbound"]),
)
def test_random_unicode_in_any_message_field_is_stored_or_refused_never_half_done(
    fuzz_api: Api, field: str, value: str, direction: str
) -> None:
    api = fuzz_api
    n = next(_serial)
    body: dict[str, Any] = {
        "message_id": f"m-fz{n}",
        "conversation_id": f"c-fz{n}",
        "direction": direction,
        "text": "my card is blocked",
        "agent_id": "a-1" if direction == "outbound" else None,
        field: [value] if field == "skills" else value,
    }
    answer = _post(api, "POST", "/v1/messages", body, "service")
    _check_answer(answer, 200, 422)
    event(f"{field}: {answer.status_code}")
    stored = stored_message_ids(api.db_url)
    sent_id = body["message_id"]
    if answer.status_code == 200:
        assert answer.json()["conversation_id"] == body["conversation_id"]
        assert sent_id in stored
        read = api.client.get(
            f"/v1/conversations/{quote(body['conversation_id'], safe='')}",
            headers=api.headers("service"),
        )
        assert read.status_code == 200, read.text
    else:
        assert not isinstance(sent_id, str) or sent_id not in stored
    _still_serving(api)


@FUZZ
@given(agent_id=HOSTILE, skill=HOSTILE, reason=HOSTILE, conversation_id=HOSTILE)
def test_random_unicode_in_path_ids_skills_and_reasons_is_stored_or_refused(
    fuzz_api: Api, agent_id: str, skill: str, reason: str, conversation_id: str
) -> None:
    api = fuzz_api
    agent_path = quote(agent_id.encode("utf-8", "surrogatepass"), safe="")
    if agent_id in ("", ".", ".."):  # not an id on the wire: clients resolve the path
        agent_path = "a-2"
    put = _post(api, "PUT", f"/v1/agents/{agent_path}", {"skills": [skill]}, "supervisor")
    _check_answer(put, 200, 404, 405, 422)
    if put.status_code == 200:
        assert put.json()["skills"] == [skill]
    closed = _post(
        api, "POST", "/v1/conversations/c-fz-missing/close", {"reason": reason}, "service"
    )
    _check_answer(closed, 404, 422)
    conversation_path = quote(conversation_id.encode("utf-8", "surrogatepass"), safe="")
    if conversation_id not in ("", ".", ".."):
        read = api.client.get(
            f"/v1/conversations/{conversation_path}", headers=api.headers("service")
        )
        _check_answer(read, 200, 404, 422)  # 200: an earlier example made it
    classified = _post(
        api, "POST", "/v1/classify", {"text": skill, "direction": "inbound"}, "service"
    )
    _check_answer(classified, 200, 422)
    _still_serving(api)
