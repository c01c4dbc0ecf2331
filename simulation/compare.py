"""Several policies on the same seeded traffic: the table and the bench line.

The first policy of a comparison is the baseline, the second the candidate. The
resolved-per-agent-hour ratio compares the candidate with the same policy without
the inactive state (run as well when not asked for), since that is what the inactive
state is for; the other ratios compare the candidate with the baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tidal.engine.core.settings import RoutingSettings
from tidal.engine.core.workflow import WorkflowRules
from tidal.simulation.customers import Kind
from tidal.simulation.day import Classify, Day
from tidal.simulation.metrics import summarize, waits_by_kind
from tidal.simulation.policies import Policy, parse_policy, without_inactive
from tidal.simulation.texts import TextPools
from tidal.simulation.traffic import Traffic

KINDS = [k.value for k in Kind]


def policies_for(names: Sequence[str]) -> list[Policy]:
    """The policies asked for, plus the candidate's variant without the inactive state."""
    policies = [parse_policy(name) for name in names]
    if len(policies) >= 2:
        plain = without_inactive(policies[1])
        if plain.name not in {p.name for p in policies}:
            policies.append(plain)
    return policies


def run_policies(
    traffic: Traffic,
    policies: Sequence[Policy],
    routing: RoutingSettings,
    workflow: WorkflowRules,
    texts: TextPools,
    classify: Classify,
    progress: Callable[[str], Callable[[float], None] | None] | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, list[float]]]]:
    """Metrics per policy, and every wait by policy and customer kind (for the plots)."""
    results: dict[str, dict[str, Any]] = {}
    waits: dict[str, dict[str, list[float]]] = {}
    for policy in policies:
        day = Day(
            traffic,
            policy.routing(routing),
            policy.workflow(workflow),
            texts,
            classify,
            progress(policy.name) if progress is not None else None,
        )
        observations = day.run()
        results[policy.name] = summarize(observations, traffic, policy)
        waits[policy.name] = waits_by_kind(observations)
    return results, waits


def bench_line(results: dict[str, dict[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    baseline, candidate = results[names[0]], results[names[1]]
    plain = results[without_inactive(parse_policy(names[1])).name]
    waits_b, waits_c = baseline["wait_seconds"], candidate["wait_seconds"]
    p95_ratios = [_ratio(waits_c[k]["p95"], waits_b[k]["p95"]) for k in KINDS]
    known = [r for r in p95_ratios if r is not None]
    return {
        "bench": "simulate",
        "engaged_median_wait_ratio": _ratio(
            waits_c["engaged"]["median"], waits_b["engaged"]["median"]
        ),
        "p95_wait_ratio": max(known) if known else None,
        "resolved_per_agent_hour_ratio": _ratio(
            candidate["resolved_per_agent_hour"], plain["resolved_per_agent_hour"]
        ),
        "utilization": candidate["load_at_saturation"],
    }


def table_rows(results: dict[str, dict[str, Any]]) -> list[list[str]]:
    """One row per policy: waits by kind (median / p95), throughput, load, stickiness."""
    rows: list[list[str]] = []
    for name, m in results.items():
        waits = m["wait_seconds"]
        row = [name]
        for kind in KINDS:
            row.append(f"{_fmt(waits[kind]['median'])} / {_fmt(waits[kind]['p95'])}")
        same = m["reactivations_same_agent"]
        total = m["reactivations"]
        row += [
            f"{m['resolved_per_agent_hour']:.2f}",
            f"{m['load_at_saturation']:.3f}" if m["load_at_saturation"] is not None else "-",
            f"{same}/{total}",
            str(waits["all"]["unanswered"]),
        ]
        rows.append(row)
    return rows


TABLE_HEADER = [
    "policy",
    *[f"{k} wait median / p95" for k in KINDS],
    "resolved per agent-hour",
    "load / preferred at saturation",
    "reactivations to the same agent",
    "unanswered at day end",
]


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 4)


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"
