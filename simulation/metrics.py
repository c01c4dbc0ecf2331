"""Figures from one day's observations: the metrics JSON of `tidal simulate`.

A wait is the time from a customer's message that the business owes a reply to (the
engine set `awaiting = agent`) until an agent's next message in that conversation.
Waits still open at the end of the day are counted with the time waited so far
(censored, and reported apart as `unanswered`), so a starved customer cannot vanish
from the percentiles.
"""

from __future__ import annotations

import math
from typing import Any

from tidal.simulation.customers import Kind
from tidal.simulation.day import Observations
from tidal.simulation.policies import Policy
from tidal.simulation.traffic import Traffic


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in [0, 100]) of non-empty `values`."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def waits_by_kind(obs: Observations) -> dict[str, list[float]]:
    """Every wait by customer kind, those still open at the day's end included."""
    found: dict[str, list[float]] = {k.value: [] for k in Kind}
    for kind, seconds in obs.waits:
        found[kind].append(seconds)
    for kind, seconds in obs.unanswered:
        found[kind].append(seconds)
    return found


def summarize(obs: Observations, traffic: Traffic, policy: Policy) -> dict[str, Any]:
    by_kind = waits_by_kind(obs)
    unanswered: dict[str, int] = {k.value: 0 for k in Kind}
    for kind, _ in obs.unanswered:
        unanswered[kind] += 1
    waits = {
        kind: _wait_figures(values) | {"unanswered": unanswered[kind]}
        for kind, values in by_kind.items()
    }
    everyone = [s for values in by_kind.values() for s in values]
    waits["all"] = _wait_figures(everyone) | {"unanswered": sum(unanswered.values())}
    pickups: dict[str, list[float]] = {k.value: [] for k in Kind}
    for kind, seconds in obs.pickups:
        pickups[kind].append(seconds)
    agent_hours = obs.agent_seconds / 3600
    resolved = sum(obs.resolved.values())
    saturated = [(load, pref) for _, load, pref, queue in obs.samples if queue > 0 and pref]
    load_at_saturation = (
        sum(load for load, _ in saturated) / sum(pref for _, pref in saturated)
        if saturated
        else None
    )
    return {
        "policy": policy.describe(),
        "seed": traffic.seed,
        "conversations": len(traffic.plans),
        "conversations_by_kind": dict(sorted(obs.conversations.items())),
        "agents": len(traffic.agents),
        "agent_hours": round(agent_hours, 2),
        "messages": obs.messages,
        "wait_seconds": waits,
        # the same waits measured only until an agent starts on the reply (no writing time)
        "wait_until_pickup_seconds": {k: _wait_figures(v) for k, v in pickups.items()},
        "resolved": resolved,
        "resolved_by_kind": dict(sorted(obs.resolved.items())),
        "resolved_per_agent_hour": round(resolved / agent_hours, 4) if agent_hours else None,
        "load_at_saturation": _round(load_at_saturation),
        "agent_time_writing": round(obs.writing_seconds / obs.agent_seconds, 4)
        if obs.agent_seconds
        else None,
        "picks_with_a_choice": round(obs.picks_with_a_choice / obs.picks, 4) if obs.picks else None,
        "saturated_share_of_day": round(len(saturated) / len(obs.samples), 4)
        if obs.samples
        else 0.0,
        "queue_max": max((queue for *_, queue in obs.samples), default=0),
        "reactivations": obs.reactivations,
        "reactivations_same_agent": obs.reactivations_same_agent,
        "questions_ignored_by_workflow": obs.ignored_questions,
        "closed_by": dict(sorted(obs.closed_by.items())),
        "inactivated_by": dict(sorted(obs.inactivated_by.items())),
        "over_time": [
            {
                "t": _clock(t),
                "load_ratio": _round(load / pref if pref else None),
                "available_agents_preferred": pref,
                "queue": queue,
            }
            for t, load, pref, queue in obs.samples
        ],
    }


def _wait_figures(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "median": None, "p95": None, "max": None}
    return {
        "count": len(values),
        "median": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "max": round(max(values), 2),
    }


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def _clock(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
