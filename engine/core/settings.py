"""Routing and timer settings (docs/concepts.md#timers to #adaptive-response-timer,
docs/rules.md#routing-settings): plain values, defaults and consistency.

`rules/routing.yaml` is read by `tidal.engine.rulesio.routing`; this module only holds the
result and knows which combinations make no sense (`problems`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """Everything that may differ per channel; the defaults are those of docs/concepts.md#timers and
    #adaptive-response-timer."""

    inactivity_timeout: timedelta = timedelta(minutes=30)
    auto_close_after: timedelta = timedelta(hours=24)
    reopen_window: timedelta = timedelta(hours=24)
    response_overdue_after: timedelta = timedelta(minutes=10)
    requeue_overdue: bool = False
    hold_grace: timedelta = timedelta(minutes=5)
    pace_alpha: float = 0.5
    default_pace: timedelta = timedelta(minutes=2)
    pace_factor: float = 1.0
    target_min: timedelta = timedelta(seconds=30)
    target_max: timedelta = timedelta(minutes=15)
    escalation_factor: float = 0.25

    def problems(self) -> list[tuple[tuple[str, ...], str]]:
        """(the settings involved, what is wrong) for every inconsistent value."""
        found: list[tuple[tuple[str, ...], str]] = []
        positive = (
            "inactivity_timeout",
            "auto_close_after",
            "hold_grace",
            "default_pace",
            "target_min",
            "target_max",
        )
        for name in positive:
            value: timedelta = getattr(self, name)
            if value <= timedelta(0):
                found.append(
                    ((name,), f"{name} must be a positive duration, not {format_duration(value)}")
                )
        for name in ("reopen_window", "response_overdue_after"):
            value = getattr(self, name)
            if value < timedelta(0):
                found.append(((name,), f"{name} must not be negative ({format_duration(value)})"))
        if self.target_min > self.target_max:
            found.append((("target_min", "target_max"), "target_min is above target_max"))
        if not 0 < self.pace_alpha <= 1:
            found.append((("pace_alpha",), "pace_alpha must be in (0, 1]"))
        if not 0 < self.escalation_factor <= 1:
            found.append((("escalation_factor",), "escalation_factor must be in (0, 1]"))
        if self.pace_factor <= 0:
            found.append((("pace_factor",), "pace_factor must be positive"))
        return found


def format_duration(value: timedelta) -> str:
    """The shortest readable form, as settings files write it: 1800 s → `30m`, -5 s → `-5s`.

    (`str(timedelta(seconds=-5))` would say "-1 day, 23:59:55".)
    """
    total = value.total_seconds()
    sign = "-" if total < 0 else ""
    remaining = abs(total)
    parts: list[str] = []
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        whole = int(remaining // size)
        if whole:
            parts.append(f"{whole}{unit}")
            remaining -= whole * size
    if remaining or not parts:
        parts.append(f"{remaining:g}s")
    return sign + "".join(parts)


CHANNEL_SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(ChannelSettings))


@dataclass(frozen=True, slots=True)
class AgentDefaults:
    """Limits of an agent created without explicit ones (e.g. by replay)."""

    preferred_concurrency: int = 3
    max_concurrency: int = 5

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if self.preferred_concurrency < 0:
            found.append(("preferred_concurrency", "preferred_concurrency must not be negative"))
        if self.max_concurrency < 1:
            found.append(("max_concurrency", "max_concurrency must be at least 1"))
        if self.preferred_concurrency > self.max_concurrency:
            found.append(
                ("preferred_concurrency", "preferred_concurrency is above max_concurrency")
            )
        return found


@dataclass(frozen=True, slots=True)
class RoutingSettings:
    """Defaults plus per-channel overrides; `for_channel` applies the most specific."""

    defaults: ChannelSettings = field(default_factory=ChannelSettings)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    agents: AgentDefaults = field(default_factory=AgentDefaults)
    _resolved: dict[str, ChannelSettings] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for name, over in self.channels.items():
            self._resolved[name] = replace(self.defaults, **over)

    def for_channel(self, channel: str | None) -> ChannelSettings:
        if channel is None:
            return self.defaults
        return self._resolved.get(channel, self.defaults)

    def problems(self) -> list[tuple[tuple[str, ...], str]]:
        """(location, what is wrong), locations as in the YAML file."""
        found: list[tuple[tuple[str, ...], str]] = [
            (("agents", name), msg) for name, msg in self.agents.problems()
        ]
        inherited = self.defaults.problems()
        found += [(("defaults", names[0]), msg) for names, msg in inherited]
        for channel, over in self.channels.items():
            for names, msg in self.for_channel(channel).problems():
                overridden = [n for n in names if n in over]
                if overridden:
                    where: tuple[str, ...] = ("channels", channel, overridden[0])
                elif (names, msg) in inherited:
                    continue  # already reported once, for the defaults
                else:
                    where = ("channels", channel)
                found.append((where, f"channel {channel!r}: {msg}"))
        return found
