"""The wall clock adapter: the only place in Tidal that reads the system time.

The engine only ever asks an injected `tidal.engine.core.clock.Clock`; the service gives it a
`WallClock` in production and a `ManualClock` with `tidal serve --clock manual`.
"""

from __future__ import annotations

from datetime import UTC, datetime


class WallClock:
    """The system's current time, timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
