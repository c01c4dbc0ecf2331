"""`rules/routing.yaml` (version 1): every setting of docs/concepts.md#timers and #routing, with
per-channel overrides.

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

import copy
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tidal.engine.core.settings import AgentDefaults, ChannelSettings, RoutingSettings
from tidal.engine.rulesio.durations import Duration
from tidal.engine.rulesio.errors import FilesInvalid
from tidal.engine.rulesio.located import LocatedDocument, Location, read_yaml, validate


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
    """The settings in `doc`, or None with every problem appended to `doc.errors`.

    A schema error does not hide the inconsistencies of the other settings: the invalid
    values are set aside and the rest is checked too, so one pass shows every error.
    """
    parsed = validate(doc, RoutingFile)
    set_aside: list[Location] = []
    if parsed is None:
        parsed, set_aside = _valid_rest(doc.data)
        if parsed is None:
            return None
    settings = _settings(parsed)
    problems = [
        (location, message)
        for location, message in settings.problems()
        if not _involves(location, message, set_aside)
    ]
    for location, message in problems:
        doc.errors.append(doc.error(location, "T009", message))
    return None if problems or set_aside else settings


def _settings(parsed: RoutingFile) -> RoutingSettings:
    return RoutingSettings(
        defaults=ChannelSettings(**parsed.defaults.given()),
        channels={name: over.given() for name, over in parsed.channels.items()},
        agents=AgentDefaults(
            preferred_concurrency=parsed.agents.preferred_concurrency,
            max_concurrency=parsed.agents.max_concurrency,
        ),
    )


#: more rounds than a file has sections: each round sets aside at least one value
_MAX_ROUNDS = 20


def _valid_rest(data: Any) -> tuple[RoutingFile | None, list[Location]]:
    """The file without its invalid values, and where those were (None: nothing usable)."""
    if not isinstance(data, dict):
        return None, []
    rest = copy.deepcopy(data)
    set_aside: list[Location] = []
    for _ in range(_MAX_ROUNDS):
        try:
            return RoutingFile.model_validate(rest), set_aside
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                location = tuple(error["loc"])
                if not _remove(rest, location):
                    return None, set_aside
                set_aside.append(location)
    return None, set_aside


def _remove(data: dict[Any, Any], location: Location) -> bool:
    """Drop the value at `location` so its default applies; False if that cannot be."""
    if not location or location == ("version",):
        return False
    *parents, last = location
    container: Any = data
    for key in parents:
        if not isinstance(container, dict) or key not in container:
            return False
        container = container[key]
    if not isinstance(container, dict) or last not in container:
        return False
    del container[last]
    return True


def _involves(location: Location, message: str, set_aside: list[Location]) -> bool:
    """Whether an inconsistency names a value that was set aside (its default stood in,
    so the comparison says nothing about the file). A value set aside under `defaults`
    stands behind every channel too."""
    for aside in set_aside:
        section = aside[:-1]
        if section not in (location[: len(section)], ("defaults",)):
            continue
        if re.search(rf"\b{re.escape(str(aside[-1]))}\b", message):
            return True
    return False


def load_routing(path: Path | str) -> RoutingSettings:
    """Read and validate a routing settings file; raises `FilesInvalid` with every error."""
    doc = read_yaml(path)
    settings = routing_from(doc)
    if settings is None or doc.errors:
        raise FilesInvalid(doc.errors)
    return settings
