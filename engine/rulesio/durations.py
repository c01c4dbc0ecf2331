"""Readable durations in settings files: `45s`, `30m`, `24h`, `2d`, `1h30m`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

from tidal.engine.core.settings import format_duration

_PART = re.compile(r"(\d+(?:\.\d+)?)(d|h|m|s)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?[dhms])+")
_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
#: ten years: with the service's timestamps before the year 3000, no deadline computed
#: from a setting can leave the calendar
MAX_DURATION = timedelta(days=3650)


def parse_duration(value: Any) -> timedelta:
    """`"1h30m"` → 90 minutes; a leading `-` gives a negative duration (then reported
    as inconsistent by the settings checks, with its line)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(
            f"write durations as text with a unit, like 45s, 30m or 24h (got {value!r})"
        )
    text = value.strip().replace(" ", "")
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    if not body or not _WHOLE.fullmatch(body):
        raise ValueError(f"{value!r} is not a duration: use e.g. 45s, 30m, 24h, 2d or 1h30m")
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(body))
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{value!r} is longer than the longest duration allowed, 3650d")
    return timedelta(seconds=sign * seconds)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]
