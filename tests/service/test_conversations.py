"""Conversations, agents, worklists, the queue and the manual clock over HTTP."""

from __future__ import annotations

from datetime import timedelta

from tests.service.conftest import T0, Api
from tidal.service.http.routes.schemas import (
    AgentList,
    AgentOut,
    ConversationOut,
    ConversationSummary,
    QueueOut,
    TakeOut,
    WorklistOut,
)


def _get(api: Api, path: str, who: str = "supervisor") -> dict:  # type: ignore[type-arg]
    response = api.client.get(path, headers=api.headers(who))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_conversation_detail_explains_priority_and_recent_decisions(api: Api) -> None:
    api.put_agent("a-1")
    api.message(
        "m-1", "c-1", "my card is blocked", channel="sms", customer_id="cust-1", skills=["billing"]
    )
    detail = _get(api, "/v1/conversations/c-1", "service")
    ConversationOut.model_validate(detail)
    assert detail["state"] == "queued"  # a-1 lacks the billing skill
    assert detail["skills"] == ["billing"]
    assert detail["priority"]["respond_by"] == detail["respond_by"]
    assert detail["recent_decisions"][0]["action"] == "activate"
    assert "queued" in {e["kind"] for e in detail["recent_events"]}


def test_closing_a_conversation_frees_the_slot_and_records_the_reason(api: Api) -> None:
    api.put_agent("a-1")
    api.message("m-1", "c-1", "my card is blocked")
    closed = api.client.post(
        "/v1/conversations/c-1/close",
        json={"reason": "resolved_by_phone"},
        headers=api.headers("a-1"),
    )
    assert closed.status_code == 200, closed.text
    ConversationSummary.model_validate(closed.json())
    assert closed.json()["state"] == "closed"
    detail = _get(api, "/v1/conversations/c-1", "service")
    assert detail["close_reason"] == "resolved_by_phone"
    assert _get(api, "/v1/agents/a-1")["load"] == 0
    again = api.client.post(
        "/v1/conversations/c-1/close", json={"reason": "x"}, headers=api.headers("service")
    )
    assert again.status_code == 200  # closing is idempotent: the first reason stays
    assert _get(api, "/v1/conversations/c-1", "service")["close_reason"] == "resolved_by_phone"
    paused = api.client.post(
        "/v1/conversations/c-1/inactivate", json={}, headers=api.headers("supervisor")
    )
    assert paused.status_code == 409
    assert paused.json()["type"] == "https://tidal.dev/problems/conversation-closed"


def test_closing_an_unknown_conversation_is_404(api: Api) -> None:
    response = api.client.post(
        "/v1/conversations/nope/close", json={}, headers=api.headers("service")
    )
    assert response.status_code == 404
    assert response.json()["type"] == "https://tidal.dev/problems/not-found"


def test_its_agent_can_pause_a_conversation_but_the_service_cannot(api: Api) -> None:
    api.put_agent("a-1")
    api.message("m-1", "c-1", "my card is blocked")
    refused = api.client.post(
        "/v1/conversations/c-1/inactivate", json={}, headers=api.headers("service")
    )
    assert refused.status_code == 403
    paused = api.client.post(
        "/v1/conversations/c-1/inactivate", json={}, headers=api.headers("a-1")
    )
    assert paused.status_code == 200
    assert paused.json()["state"] == "inactive"
    assert paused.json()["last_agent_id"] == "a-1"
    worklist = _get(api, "/v1/agents/a-1/conversations", "a-1")
    assert [c["id"] for c in worklist["inactive"]] == ["c-1"]
    assert _get(api, "/v1/agents/a-1")["load"] == 0


def test_worklist_lists_awaiting_agent_by_priority_then_awaiting_customer(api: Api) -> None:
    api.put_agent("a-1", preferred_concurrency=3, max_concurrency=5)
    api.message("m-1", "c-1", "my card is blocked")
    api.message("m-2", "c-2", "my parcel is late")
    api.message("m-3", "c-3", "where is my refund?")
    api.message("m-4", "c-2", "this is urgent")  # escalated: due sooner
    api.message("m-5", "c-3", "Sure, let me look.", direction="outbound", agent_id="a-1")
    worklist = _get(api, "/v1/agents/a-1/conversations", "a-1")
    WorklistOut.model_validate(worklist)
    assert [c["id"] for c in worklist["awaiting_agent"]] == ["c-2", "c-1"]
    assert [c["id"] for c in worklist["awaiting_customer"]] == ["c-3"]
    assert worklist["inactive"] == []


def test_queue_is_in_priority_order(api: Api) -> None:
    api.message("m-1", "c-1", "my card is blocked")
    api.set_clock(T0 + timedelta(minutes=1))
    api.message("m-2", "c-2", "this is urgent")
    api.message("m-3", "c-3", "my parcel is late")
    queue = _get(api, "/v1/queue")
    QueueOut.model_validate(queue)
    assert [c["id"] for c in queue["conversations"]] == ["c-2", "c-1", "c-3"]


def test_a_silent_customer_makes_the_conversation_inactive_after_30_minutes(api: Api) -> None:
    api.put_agent("a-1")
    api.message("m-1", "c-1", "my card is blocked")
    api.message("m-2", "c-1", "It is unblocked now.", direction="outbound", agent_id="a-1")
    moved = api.set_clock(T0 + timedelta(minutes=29))
    assert moved.status_code == 200 and moved.json()["fired_events"] == 0
    assert _get(api, "/v1/conversations/c-1", "service")["state"] == "assigned"
    moved = api.set_clock(T0 + timedelta(minutes=31))
    assert moved.json()["fired_events"] >= 1
    detail = _get(api, "/v1/conversations/c-1", "service")
    assert detail["state"] == "inactive"
    assert detail["inactive_reason"] == "customer_silent"
    assert detail["last_agent_id"] == "a-1"
    assert _get(api, "/v1/agents/a-1")["load"] == 0


def test_the_manual_clock_cannot_go_back(api: Api) -> None:
    api.set_clock(T0 + timedelta(minutes=5))
    response = api.set_clock(T0)
    assert response.status_code == 409
    assert response.json()["type"] == "https://tidal.dev/problems/clock-backwards"


def test_an_agent_takes_one_more_conversation_above_preferred(api: Api) -> None:
    api.put_agent("a-1", preferred_concurrency=1, max_concurrency=2)
    api.message("m-1", "c-1", "my card is blocked")
    second = api.message("m-2", "c-2", "my parcel is late").json()
    assert second["routing"]["reason"] == "queued"
    taken = api.client.post("/v1/agents/a-1/take", headers=api.headers("a-1"))
    assert taken.status_code == 200
    TakeOut.model_validate(taken.json())
    assert taken.json()["conversation"]["id"] == "c-2"
    assert _get(api, "/v1/agents/a-1")["load"] == 2
    nothing = api.client.post("/v1/agents/a-1/take", headers=api.headers("a-1")).json()
    assert nothing == {"conversation": None}


def test_agents_list_shows_load_against_limits(api: Api) -> None:
    api.put_agent("a-1", preferred_concurrency=2, max_concurrency=3, skills=["billing"])
    api.put_agent("a-2", status="away")
    api.message("m-1", "c-1", "my card is blocked", skills=["billing"])
    agents = _get(api, "/v1/agents")
    AgentList.model_validate(agents)
    by_id = {a["id"]: a for a in agents["agents"]}
    assert (
        by_id["a-1"]["load"],
        by_id["a-1"]["preferred_concurrency"],
        by_id["a-1"]["max_concurrency"],
    ) == (1, 2, 3)
    assert by_id["a-2"]["status"] == "away"
    AgentOut.model_validate(by_id["a-1"])


def test_invalid_agent_limits_are_refused(api: Api) -> None:
    response = api.put_agent("a-1", preferred_concurrency=5, max_concurrency=2)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert api.client.get("/v1/agents/a-1", headers=api.headers("supervisor")).status_code == 404


def test_unknown_agent_is_404(api: Api) -> None:
    response = api.client.get("/v1/agents/ghost/conversations", headers=api.headers("supervisor"))
    assert response.status_code == 404
