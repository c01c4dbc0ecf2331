"""Clocks. The engine never reads the wall clock: it asks an injected `Clock`.

`ManualClock` drives tests, simulation and replay; the service supplies a wall clock
from outside the core (see `tidal.service.running.clock`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time as a timezone-aware UTC datetime."""

    def now(self) -> datetime: ...


def ensure_utc(moment: datetime) -> datetime:
    """Reject naive datetimes and normalise aware ones to UTC."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: Tidal only accepts aware UTC times")
    return moment.astimezone(UTC)


class ManualClock:
    """A clock that moves only when told to; it never goes backwards."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        moment = ensure_utc(moment)
        if moment < self._now:
            raise ValueError(
                f"clock cannot go back from {self._now.isoformat()} to {moment.isoformat()}"
            )
        self._now = moment

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)
