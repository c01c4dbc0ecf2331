"""End to end: the real service, Debian's chromium, and the desk reacting live.

Messages are posted through the API (as the contact-center platform would) and the desk,
never reloaded, must show each change: new work with a countdown, an escalation moving to
the top, a pause from the desk itself, a silent customer going inactive when the manual
clock moves, and the supervisor's queue and loads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.desk.desk_tab import DeskTab
from tests.desk.live_service import LiveService

pytestmark = pytest.mark.browser

#: generous: the machine is shared and each step crosses HTTP, the engine and SSE
expect.set_options(timeout=15_000)


def engine_now(service: LiveService) -> datetime:
    """The manual clock's current time, as /healthz reports it."""
    return datetime.fromisoformat(
        httpx.get(service.base_url + "/healthz", timeout=10).json()["now"]
    )


def sign_in(page: Page, token: str) -> None:
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#connection")).to_contain_text("Live")


def conversation_ids(page: Page, list_id: str) -> Locator:
    """The ids of the conversations in one list of the desk, in display order."""
    return page.locator(f"#{list_id} > li.conv h3")


def card(page: Page, conversation_id: str) -> Locator:
    return page.locator(f'li.conv[data-conversation-id="{conversation_id}"]')


def test_agent_desk_follows_the_conversations_live(
    open_desk: Callable[[], DeskTab], live_service: LiveService, artifacts: Path
) -> None:
    service = live_service
    service.put_agent("a-1", status="available", preferred_concurrency=2, max_concurrency=3)
    agent_tab = open_desk()
    page = agent_tab.page
    sign_in(page, service.agent_token("a-1"))  # the role and agent come from GET /v1/me
    assert page.url == service.base_url + "/", "the token must never reach the URL"
    page.evaluate("window.__signedInOnce = true")  # gone if anything reloads the page
    expect(page.get_by_role("heading", name="Agent a-1")).to_be_visible()
    expect(page.locator("#awaiting-agent")).to_contain_text("Nobody is waiting for you")

    now = engine_now(service)
    service.customer_writes(
        "c-1", "My card was declined at the supermarket, can you check?", customer_id="cust-1"
    )
    expect(conversation_ids(page, "awaiting-agent")).to_have_text(["c-1"])
    expect(card(page, "c-1").locator("time.countdown")).to_contain_text("left")
    expect(card(page, "c-1")).to_contain_text("target 2 min")
    expect(page.locator(".load-caption")).to_contain_text("1 active · preferred 2 · max 3")

    now = service.advance_clock(now, timedelta(seconds=30))
    service.customer_writes(
        "c-2", "How do I change the address on my account?", customer_id="cust-2"
    )
    expect(conversation_ids(page, "awaiting-agent")).to_have_text(["c-1", "c-2"])

    # At preferred concurrency new work waits in the queue; the agent may take one more.
    outcome = service.customer_writes(
        "c-3", "Where is my parcel? It was due yesterday.", customer_id="cust-3"
    )
    assert outcome["routing"]["reason"] == "queued"
    take = page.get_by_role("button", name="Take one more")
    expect(take).to_be_enabled()
    take.click()
    expect(conversation_ids(page, "awaiting-agent")).to_have_text(["c-1", "c-2", "c-3"])
    expect(page.locator(".load-caption")).to_contain_text("3 active")
    expect(take).to_be_disabled()
    expect(page.locator("#take-hint")).to_contain_text("maximum of 3")

    # An escalation cuts c-2's target, so it jumps ahead of c-1.
    service.customer_writes("c-2", "This is urgent, someone used my card!")
    expect(conversation_ids(page, "awaiting-agent")).to_have_text(["c-2", "c-1", "c-3"])
    expect(card(page, "c-2").locator(".boost")).to_be_visible()

    # The agent pauses c-1 from the desk: it leaves the reply list for the paused list.
    page.get_by_role("button", name="Pause c-1").click()
    expect(conversation_ids(page, "inactive")).to_have_text(["c-1"])
    expect(conversation_ids(page, "awaiting-agent")).to_have_text(["c-2", "c-3"])
    expect(take).to_be_enabled()

    # The agent answers c-3 (from its messaging tool, through the API); when the customer
    # stays silent past the inactivity timeout, moving the manual clock makes it inactive.
    service.agent_writes("c-3", "a-1", "It left our depot this morning and arrives tomorrow.")
    now = service.advance_clock(now, timedelta(minutes=31))
    expect(conversation_ids(page, "inactive")).to_have_text(["c-1", "c-3"])
    expect(card(page, "c-3")).to_contain_text("Paused")
    expect(card(page, "c-2").locator("time.countdown")).to_contain_text("overdue")
    expect(card(page, "c-2")).to_have_attribute("data-urgency", "past")

    # New work while the agent answers it.
    service.customer_writes("c-4", "Hi, can I move my delivery to Friday?", customer_id="cust-4")
    expect(conversation_ids(page, "awaiting-agent")).to_have_text(["c-2", "c-4"])
    service.agent_writes("c-4", "a-1", "Sure, which address should we deliver to?")

    # The silent customer of c-3 comes back: sticky routing returns it to a-1 (above
    # preferred, up to the maximum).
    outcome = service.customer_writes("c-3", "Actually, could you send it to my office?")
    assert outcome["routing"] == {"agent_id": "a-1", "reason": "sticky"}
    expect(conversation_ids(page, "awaiting-agent")).to_have_text(["c-2", "c-3"])
    expect(conversation_ids(page, "awaiting-customer")).to_have_text(["c-4"])
    expect(conversation_ids(page, "inactive")).to_have_text(["c-1"])
    expect(take).to_be_disabled()
    service.agent_writes("c-3", "a-1", "Done: it goes to your office tomorrow.")

    # c-4's customer answers within 10 s: a faster pace gives a shorter target, and as the
    # clock nears it the countdown turns amber.
    now = service.advance_clock(now, timedelta(seconds=10))
    service.customer_writes("c-4", "12 Harbour Street, please")
    expect(conversation_ids(page, "awaiting-agent")).to_have_text(["c-2", "c-4"])
    expect(conversation_ids(page, "awaiting-customer")).to_have_text(["c-3"])
    expect(card(page, "c-4")).to_contain_text("customer pace 1 min 5 s")
    now = service.advance_clock(now, timedelta(seconds=52))
    expect(card(page, "c-4")).to_have_attribute("data-urgency", "near")
    expect(page.locator("#announcer")).not_to_be_empty()

    page.mouse.move(0, 0)  # no hover highlight in the picture
    page.screenshot(path=str(artifacts / "desk.png"), full_page=True, animations="disabled")
    assert page.evaluate("window.__signedInOnce") is True, "the desk reloaded"

    # The status tool: going away stops new work, which the supervisor then sees queued.
    status = page.get_by_role("combobox", name="Status")
    status.select_option("away")
    expect(page.locator("#last-change")).to_contain_text("Status set to Away")
    assert service.call("GET", "/v1/agents/a-1", service.supervisor_token)["status"] == "away"
    service.customer_writes("c-5", "I was charged twice for my order", customer_id="cust-5")
    now = service.advance_clock(now, timedelta(seconds=20))
    service.customer_writes("c-6", "Need a copy of my invoice", customer_id="cust-6")
    service.put_agent("a-2", status="busy", preferred_concurrency=3, max_concurrency=5)

    supervisor_tab = open_desk()
    supervisor = supervisor_tab.page
    sign_in(supervisor, service.supervisor_token)
    expect(supervisor.get_by_role("heading", name="Supervisor")).to_be_visible()
    expect(conversation_ids(supervisor, "queue")).to_have_text(["c-5", "c-6"])
    expect(card(supervisor, "c-5").locator("time.countdown")).to_contain_text("left")
    agent_row = supervisor.locator('tr[data-agent-id="a-1"]')
    expect(agent_row).to_contain_text("Away")
    expect(agent_row.get_by_role("meter")).to_have_attribute("aria-valuenow", "3")
    expect(supervisor.locator('tr[data-agent-id="a-2"]')).to_contain_text("Busy")
    supervisor.screenshot(
        path=str(artifacts / "desk-supervisor.png"), full_page=True, animations="disabled"
    )

    # Live on the supervisor's side too: the agent closes c-3 (with a reason), comes back
    # and takes one more from the queue.
    page.get_by_role("button", name="Close c-3").click()
    dialog = page.get_by_role("dialog", name="Close c-3")
    dialog.get_by_label("Reason").fill("resolved")
    dialog.get_by_role("button", name="Close conversation").click()
    expect(conversation_ids(page, "awaiting-customer")).to_have_count(0)
    closed = service.call("GET", "/v1/conversations/c-3", service.supervisor_token)
    assert (closed["state"], closed["close_reason"]) == ("closed", "resolved")
    expect(agent_row.get_by_role("meter")).to_have_attribute("aria-valuenow", "2")
    status.select_option("available")
    expect(agent_row).to_contain_text("Available")
    take.click()
    expect(conversation_ids(supervisor, "queue")).to_have_text(["c-6"])
    expect(conversation_ids(page, "awaiting-agent")).to_have_text(["c-2", "c-4", "c-5"])
    expect(agent_row.get_by_role("meter")).to_have_attribute("aria-valuenow", "3")

    # Signing out forgets the token.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Access token")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    assert agent_tab.errors == [] and supervisor_tab.errors == []


def test_an_agent_reply_moves_the_conversation_to_waiting_on_the_customer(
    open_desk: Callable[[], DeskTab], live_service: LiveService
) -> None:
    service = live_service
    service.put_agent("a-1", status="available", preferred_concurrency=2, max_concurrency=3)
    tab = open_desk()
    page = tab.page
    sign_in(page, service.agent_token("a-1"))
    service.customer_writes("c-1", "Can you tell me why my bill went up?", customer_id="cust-1")
    expect(conversation_ids(page, "awaiting-agent")).to_have_text(["c-1"])

    # The reply alone (no other event after it) must reach the agent's live stream.
    service.agent_writes("c-1", "a-1", "Your plan's discount ended last month.")
    expect(conversation_ids(page, "awaiting-customer")).to_have_text(["c-1"])
    expect(conversation_ids(page, "awaiting-agent")).to_have_count(0)
    assert tab.errors == []


def test_desk_shows_a_lost_connection_and_catches_up_when_it_returns(
    open_desk: Callable[[], DeskTab], live_service: LiveService
) -> None:
    service = live_service
    service.put_agent("a-1", status="available", preferred_concurrency=2, max_concurrency=3)
    page = open_desk().page
    sign_in(page, service.agent_token("a-1"))
    page.evaluate("window.__signedInOnce = true")

    service.process.stop()
    expect(page.locator("#connection")).to_contain_text("Reconnecting")

    # Same port, same database: the token still works and the stream resumes by itself.
    service.process.start()
    service.customer_writes("c-1", "Is anyone there? My order never arrived.", customer_id="cust-1")
    expect(page.locator("#connection")).to_contain_text("Live")
    expect(conversation_ids(page, "awaiting-agent")).to_have_text(["c-1"])
    assert page.evaluate("window.__signedInOnce") is True, "the desk reloaded"


def test_an_admin_token_opens_the_supervisor_view_also_on_a_phone(
    open_desk: Callable[..., DeskTab], live_service: LiveService
) -> None:
    service = live_service
    service.customer_writes("c-1", "my card is blocked", customer_id="cust-1")
    service.put_agent("a-1", status="busy", preferred_concurrency=2, max_concurrency=3)
    tab = open_desk(width=390, height=844)  # on a phone, too
    page = tab.page
    sign_in(page, service.admin_token)  # the token `tidal serve` prints at first start
    expect(page.get_by_role("heading", name="Supervisor")).to_be_visible()
    expect(page.locator("#identity")).to_have_text("Admin (supervisor view)")
    expect(conversation_ids(page, "queue")).to_have_text(["c-1"])
    expect(page.locator('tr[data-agent-id="a-1"]')).to_contain_text("Busy")
    # the agents table scrolls inside its panel; the page itself never scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert tab.errors == []


def test_each_card_shows_what_the_customer_last_wrote_and_its_intent(
    open_desk: Callable[..., DeskTab], live_service: LiveService
) -> None:
    service = live_service
    service.put_agent("a-1", status="available", preferred_concurrency=2, max_concurrency=3)
    tab = open_desk()
    page = tab.page
    sign_in(page, service.agent_token("a-1"))
    service.customer_writes("c-1", "Where is my parcel? It was due on Monday.")
    service.customer_writes("c-2", "Someone used my card, this is urgent!")
    expect(card(page, "c-1").locator(".said-text")).to_have_text(
        "Where is my parcel? It was due on Monday."
    )
    expect(card(page, "c-2").locator(".said .intent")).to_have_text("urgent")
    expect(card(page, "c-2").locator(".said-text")).to_have_text(
        "Someone used my card, this is urgent!"
    )
    assert tab.errors == []


def test_on_a_phone_the_header_keeps_the_agents_status_and_load_in_view(
    open_desk: Callable[..., DeskTab], live_service: LiveService, artifacts: Path
) -> None:
    service = live_service
    service.put_agent("a-1", status="available", preferred_concurrency=2, max_concurrency=3)
    for number in range(1, 4):
        service.customer_writes(f"c-{number}", f"question number {number} about my bill")
    tab = open_desk(width=390, height=844)
    page = tab.page
    sign_in(page, service.agent_token("a-1"))
    header = page.locator("header.topbar")
    status = page.locator("#header-status")
    expect(status).to_be_visible()
    expect(status).to_contain_text("Available")
    expect(status.locator(".header-load")).to_have_text("2/3")
    # right after sign-in the agent's own bar is in view, not slid under the sticky header
    header_box, select_box = header.bounding_box(), page.locator("#agent-status").bounding_box()
    assert header_box is not None and select_box is not None
    assert select_box["y"] >= header_box["y"] + header_box["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # far down the worklist, the header still tells the status and load
    page.locator("#inactive").scroll_into_view_if_needed()
    expect(page.locator("#agent-status")).not_to_be_in_viewport()
    expect(status).to_be_in_viewport()
    page.locator("#agent-status").select_option("busy")
    expect(status).to_contain_text("Busy")
    page.screenshot(path=str(artifacts / "desk-phone.png"), animations="disabled")
    assert tab.errors == []
