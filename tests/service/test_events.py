"""Live events over SSE: agent and supervisor streams, resuming with Last-Event-ID."""

from __future__ import annotations

import pytest

from tests.service.conftest import Api
from tests.service.sse import SseReader
from tidal.service.http.routes.schemas import EventOut

# a stream that never delivers what a test waits for must fail, not hang
pytestmark = pytest.mark.timeout(60)


def _stream(api: Api, path: str, who: str, last_event_id: int | None = None):  # type: ignore[no-untyped-def]
    headers = api.headers(who)
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    return api.client.stream("GET", path, headers=headers)


def test_an_agent_stream_resumes_after_the_last_event_id(api: Api) -> None:
    api.put_agent("a-1", preferred_concurrency=3, max_concurrency=5)
    api.message("m-1", "c-1", "my card is blocked")
    api.message("m-2", "c-2", "my parcel is late")
    with _stream(api, "/v1/agents/a-1/events", "a-1", last_event_id=0) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        backlog = []
        for event in SseReader(response):
            if event.event == "assigned":
                backlog.append(event)
            if len(backlog) == 2:
                break
    assert [e.data["conversation_id"] for e in backlog if e.data] == ["c-1", "c-2"]
    for event in backlog:
        assert event.data is not None and event.id == event.data["id"]
        EventOut.model_validate(event.data)
    first_id = backlog[0].id
    assert first_id is not None
    with _stream(api, "/v1/agents/a-1/events", "a-1", last_event_id=first_id) as response:
        reader = SseReader(response)
        resumed = reader.take(1)[0]
        assert resumed.id is not None and resumed.id > first_id
        api.message("m-3", "c-1", "bye")  # live, after the backlog
        for event in reader:
            assert event.id is None or event.id > first_id
            if event.event == "closed":
                assert event.data is not None and event.data["conversation_id"] == "c-1"
                break


def test_an_agent_stream_shows_only_its_own_events(api: Api) -> None:
    api.put_agent("a-1", preferred_concurrency=1, max_concurrency=1)
    api.message("m-1", "c-1", "my card is blocked")  # to a-1
    api.put_agent("a-2", preferred_concurrency=1, max_concurrency=1)
    api.message("m-2", "c-2", "my parcel is late")  # to a-2
    with _stream(api, "/v1/agents/a-2/events", "a-2", last_event_id=0) as response:
        first_two = SseReader(response).take(2)
    # a-2's own creation comes first; nothing of a-1 or c-1 is shown
    assert first_two[0].event == "agent_updated" and first_two[0].data is not None
    assert first_two[0].data["agent_id"] == "a-2"
    assert first_two[1].data is not None and first_two[1].data["conversation_id"] == "c-2"


def test_the_supervisor_stream_shows_every_agent(api: Api) -> None:
    api.put_agent("a-1")
    api.put_agent("a-2")
    with _stream(api, "/v1/events", "supervisor", last_event_id=0) as response:
        events = SseReader(response).take(2)
    assert [e.data["agent_id"] for e in events if e.data] == ["a-1", "a-2"]


def test_a_live_stream_without_last_event_id_starts_now_and_sends_heartbeats(api: Api) -> None:
    api.put_agent("a-1")
    with _stream(api, "/v1/events", "supervisor") as response:
        comments = []
        reader = SseReader(response)
        for message in reader:
            if message.comment is not None:
                comments.append(message.comment)
            if "heartbeat" in comments:
                break
            assert message.comment is not None, "no old events without Last-Event-ID"
        api.put_agent("a-2", status="busy")
        live = reader.take(1)[0]
    assert live.data is not None and live.data["agent_id"] == "a-2"


def test_streams_check_roles(api: Api) -> None:
    api.put_agent("a-1")
    api.put_agent("a-2")
    for who, path, status in [
        ("a-1", "/v1/agents/a-2/events", 403),
        ("a-1", "/v1/events", 403),
        ("service", "/v1/agents/a-1/events", 403),
        ("supervisor", "/v1/agents/ghost/events", 404),
    ]:
        with _stream(api, path, who) as response:
            assert response.status_code == status
            response.read()
            assert response.headers["content-type"] == "application/problem+json"


def test_a_malformed_last_event_id_is_a_problem(api: Api) -> None:
    headers = {**api.headers("supervisor"), "Last-Event-ID": "yesterday"}
    assert api.client.get("/v1/events", headers=headers).status_code == 422
