"""A browser tab on the desk, as the browser tests hold it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page


@dataclass
class DeskTab:
    """A browser tab on the desk and the script errors it has logged."""

    page: Page
    errors: list[str] = field(default_factory=list)
