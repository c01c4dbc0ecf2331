"""Routing policies as configuration: settings and workflow overrides, never code.

A policy name is a base, then optional modifiers:

- `fifo`: every conversation gets the same response target (`target_min` =
  `target_max` = `hold_grace` = 5m), so `respond_by` = start of the wait + 5m for
  everyone and the queue and worklists are ordered by waiting time alone.
- `adaptive`: the adaptive response timer as shipped in `rules/routing.yaml`.
- `-no-inactive`: no inactive state: the inactivity timeout is set beyond the day and
  the workflow rule that pauses on "brb" ignores the message instead, so a quiet
  conversation keeps its agent's slot until it ends.
- `-P-M`: agents' preferred and maximum concurrency (e.g. `adaptive-2-4`).

So `adaptive-no-inactive-2-4` is a valid name.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tidal.engine.core.model import Action
from tidal.engine.core.settings import AgentDefaults, RoutingSettings
from tidal.engine.core.workflow import WorkflowRules

FIFO_TARGET = timedelta(minutes=5)
NO_INACTIVE_TIMEOUT = timedelta(days=7)
PAUSE_RULE = "pause-when-customer-away"

BASES: dict[str, dict[str, Any]] = {
    "fifo": {"target_min": FIFO_TARGET, "target_max": FIFO_TARGET, "hold_grace": FIFO_TARGET},
    "adaptive": {},
}
_NAME = re.compile(r"^(?P<base>[a-z]+)(?P<no_inactive>-no-inactive)?(?:-(?P<p>\d+)-(?P<m>\d+))?$")


class UnknownPolicy(ValueError):
    """A policy name that does not parse; the message says what is allowed."""


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    workflow_actions: dict[str, str] = field(default_factory=dict)
    preferred: int | None = None
    maximum: int | None = None

    @property
    def inactive_state(self) -> bool:
        return PAUSE_RULE not in self.workflow_actions

    def routing(self, base: RoutingSettings) -> RoutingSettings:
        """`base` with this policy's overrides winning over defaults and channels."""
        defaults = dataclasses.replace(base.defaults, **self.settings)
        channels = {
            name: {k: v for k, v in over.items() if k not in self.settings}
            for name, over in base.channels.items()
        }
        agents = AgentDefaults(
            self.preferred if self.preferred is not None else base.agents.preferred_concurrency,
            self.maximum if self.maximum is not None else base.agents.max_concurrency,
        )
        routing = RoutingSettings(defaults=defaults, channels=channels, agents=agents)
        problems = routing.problems()
        if problems:
            where, message = problems[0]
            raise UnknownPolicy(f"policy {self.name!r}: {'.'.join(where)}: {message}")
        return routing

    def workflow(self, base: WorkflowRules) -> WorkflowRules:
        known = {rule.id for rule in base.rules}
        missing = sorted(set(self.workflow_actions) - known)
        if missing:
            raise UnknownPolicy(f"policy {self.name!r}: no workflow rule {missing[0]!r}")
        return WorkflowRules(
            tuple(
                dataclasses.replace(rule, do=Action(self.workflow_actions[rule.id]))
                if rule.id in self.workflow_actions
                else rule
                for rule in base.rules
            )
        )

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "settings": {k: _plain(v) for k, v in sorted(self.settings.items())},
            "workflow_actions": dict(sorted(self.workflow_actions.items())),
            "preferred_concurrency": self.preferred,
            "max_concurrency": self.maximum,
        }


def parse_policy(name: str) -> Policy:
    match = _NAME.match(name.strip())
    if match is None or match["base"] not in BASES:
        raise UnknownPolicy(
            f"unknown policy {name!r}: use fifo or adaptive, optionally followed by "
            "-no-inactive and -PREFERRED-MAX (e.g. adaptive-no-inactive-2-4)"
        )
    settings = dict(BASES[match["base"]])
    actions: dict[str, str] = {}
    if match["no_inactive"]:
        settings["inactivity_timeout"] = NO_INACTIVE_TIMEOUT
        actions[PAUSE_RULE] = Action.IGNORE.value
    preferred = int(match["p"]) if match["p"] else None
    maximum = int(match["m"]) if match["m"] else None
    if preferred is not None and maximum is not None and not 1 <= preferred <= maximum:
        raise UnknownPolicy(
            f"policy {name!r}: need 1 <= preferred ({preferred}) <= max ({maximum})"
        )
    return Policy(name.strip(), settings, actions, preferred, maximum)


def without_inactive(policy: Policy) -> Policy:
    """The same policy with the inactive state switched off."""
    if not policy.inactive_state:
        return policy
    base, _, limits = policy.name.partition("-")
    name = f"{base}-no-inactive" + (f"-{limits}" if limits else "")
    return parse_policy(name)


def _plain(value: Any) -> Any:
    if isinstance(value, timedelta):
        return f"{int(value.total_seconds())}s"
    return value
