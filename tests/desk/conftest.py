"""Fixtures for the desk's tests: the real service in a subprocess, and Debian's chromium."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.desk.desk_tab import DeskTab
from tests.desk.live_service import LiveService, running_service

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


#: the manual clock's start: a fixed, readable morning, so screenshots are reproducible
CLOCK_START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def live_service(tmp_path: Path) -> Iterator[LiveService]:
    with running_service(tmp_path, CLOCK_START) as service:
        yield service


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium driven through Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=CHROMIUM_ARGS,
        )
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts() -> Path:
    """Where browser tests leave screenshots (gitignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def open_desk(browser: Browser, live_service: LiveService) -> Iterator[Callable[..., DeskTab]]:
    """Opens fresh tabs (each its own sessionStorage) on the desk, 1280 px wide unless
    told (`open_desk(width=390)`: a phone); closes them before the service stops, so no
    open event stream holds up its shutdown."""
    contexts: list[BrowserContext] = []

    def open_tab(width: int = 1280, height: int = 860) -> DeskTab:
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="en-GB", timezone_id="UTC"
        )
        contexts.append(context)
        tab = DeskTab(context.new_page())
        tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
        tab.page.on(
            "console",
            lambda message: tab.errors.append(message.text) if message.type == "error" else None,
        )
        tab.page.goto(live_service.base_url + "/")
        return tab

    yield open_tab
    for context in contexts:
        context.close()
