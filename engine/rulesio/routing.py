"""`rules/routing.yaml` (version 1): every setting of SPEC 2, with per-channel overrides.

    version: 1
    agents: {preferred_concurrency: 3, max_concurrency: 5}
    defaults: {inactivity_timeout: 30m, requeue_overdue: false, ...}
    channels:
      whatsapp: {inactivity_timeout: 2h}   # most specific wins

Durations are readable strings (`45s`, `30m`, `24h`). Besides the schema, inconsistent
values (preferred above maximum, negative durations, target_min above target_max, ...)
are reported as T009 with the line of the offending setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.core.settings import AgentDefaults, ChannelSettings, RoutingSettings
from engine.rulesio.durations import Duration
from engine.rulesio.errors import FilesInvalid
from engine.rulesio.located import LocatedDocument, read_yaml, validate


class ChannelModel(BaseModel):
    """Every key optional: an override names only what differs."""

    model_config = ConfigDict(extra="forbid")

    inactivity_timeout: Duration | None = None
    auto_close_after: Duration | None = None
    reopen_window: Duration | None = None
    response_overdue_after: Duration | None = None
    requeue_overdue: bool | None = None
    hold_grace: Duration | None = None
    pace_alpha: float | None = None
    default_pace: Duration | None = None
    pace_factor: float | None = None
    target_min: Duration | None = None
    target_max: Duration | None = None
    escalation_factor: float | None = None

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude_none=True, mode="python").items()}


class AgentsModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    preferred_concurrency: int = AgentDefaults().preferred_concurrency
    max_concurrency: int = AgentDefaults().max_concurrency


class RoutingFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    agents: AgentsModel = Field(default_factory=AgentsModel)
    defaults: ChannelModel = Field(default_factory=ChannelModel)
    channels: dict[str, ChannelModel] = Field(default_factory=dict)


def routing_from(doc: LocatedDocument) -> RoutingSettings | None:
    """The settings in `doc`, or None with every problem appended to `doc.errors`."""
    parsed = validate(doc, RoutingFile)
    if parsed is None:
        return None
    settings = RoutingSettings(
        defaults=ChannelSettings(**parsed.defaults.given()),
        channels={name: over.given() for name, over in parsed.channels.items()},
        agents=AgentDefaults(
            preferred_concurrency=parsed.agents.preferred_concurrency,
            max_concurrency=parsed.agents.max_concurrency,
        ),
    )
    problems = settings.problems()
    for location, message in problems:
        doc.errors.append(doc.error(location, "T009", message))
    return None if problems else settings


def load_routing(path: Path | str) -> RoutingSettings:
    """Read and validate a routing settings file; raises `FilesInvalid` with every error."""
    doc = read_yaml(path)
    settings = routing_from(doc)
    if settings is None or doc.errors:
        raise FilesInvalid(doc.errors)
    return settings
