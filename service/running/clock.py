"""The service's clock: the only place in Tidal that reads the system time.

The engine only ever asks an injected `tidal.engine.core.clock.Clock`; the service gives it a
`WallClock` in production and a `ManualClock` with `tidal serve --clock manual`, whose
time survives restarts in the database's `meta` (`MANUAL_CLOCK_KEY`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from tidal.engine.core.clock import Clock, ManualClock
from tidal.service.config import Settings
from tidal.service.persistence.store import RestoredState

#: meta key under which a manual clock's time survives restarts
MANUAL_CLOCK_KEY = "manual_clock_now"


class WallClock:
    """The system's current time, timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def make_clock(settings: Settings, state: RestoredState) -> tuple[Clock, ManualClock | None]:
    """The wall clock, or a manual clock resuming the time stored by the last run."""
    if settings.clock == "wall":
        return WallClock(), None
    stored = state.meta.get(MANUAL_CLOCK_KEY)
    # resume where the last run stopped, or later when told to start later
    candidates = [datetime.fromisoformat(stored)] if stored is not None else []
    if settings.clock_start is not None:
        candidates.append(settings.clock_start)
    start = max(candidates) if candidates else WallClock().now()
    manual = ManualClock(start)
    return manual, manual
