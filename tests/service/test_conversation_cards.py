"""What a queue or worklist says about each conversation: enough to tell them apart."""

from __future__ import annotations

from tests.service.conftest import Api


def test_the_queue_shows_the_customers_latest_message_and_its_intent(api: Api) -> None:
    assert api.message("m-1", "c-1", "my card is blocked").status_code == 200
    assert api.message("m-2", "c-1", "this is urgent").status_code == 200
    [card] = api.client.get("/v1/queue", headers=api.headers("supervisor")).json()["conversations"]
    assert (card["last_inbound_text"], card["last_inbound_intent"]) == ("this is urgent", "urgent")


def test_an_ignored_message_leaves_the_card_as_it_was(api: Api) -> None:
    api.put_agent("a-1", preferred_concurrency=2, max_concurrency=3)
    assert api.message("m-1", "c-1", "where is my parcel?").status_code == 200
    assert api.message("m-2", "c-1", "thanks!").json()["decision"]["action"] == "ignore"
    worklist = api.client.get("/v1/agents/a-1/conversations", headers=api.headers("a-1")).json()
    [card] = worklist["awaiting_agent"]
    assert (card["last_inbound_text"], card["last_inbound_intent"]) == (
        "where is my parcel?",
        "other",
    )


def test_a_long_message_is_shown_by_its_start(api: Api) -> None:
    text = "my parcel " + "x" * 1000
    assert api.message("m-1", "c-1", text).status_code == 200
    detail = api.client.get("/v1/conversations/c-1", headers=api.headers("supervisor")).json()
    assert detail["last_inbound_text"] == text[:280]
