"""A tiny simulated day on the real engine and classifier: determinism and bookkeeping."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from tidal.engine.classify.loading import RuleSet, load_classifier, load_rules
from tidal.engine.classify.pipeline import Classifier
from tidal.simulation.classifying import CachedClassifier
from tidal.simulation.compare import policies_for, run_policies
from tidal.simulation.customers import Kind
from tidal.simulation.day import Day
from tidal.simulation.metrics import summarize
from tidal.simulation.policies import parse_policy
from tidal.simulation.texts import TextPools, load_pools
from tidal.simulation.traffic import generate

ROOT = Path(__file__).resolve().parents[2]


@cache
def _parts() -> tuple[RuleSet, Classifier, TextPools]:
    rule_set = load_rules(ROOT / "rules")
    classifier = load_classifier(ROOT / "rules", ROOT / "models")
    return rule_set, classifier, load_pools(ROOT / "training" / "data")


def _tiny_day(seed: int, policy_name: str = "adaptive") -> dict[str, object]:
    rule_set, classifier, texts = _parts()
    traffic = generate(seed, conversations=60, agents=3, texts=texts)
    policy = parse_policy(policy_name)
    day = Day(
        traffic,
        policy.routing(rule_set.engine.routing),
        policy.workflow(rule_set.engine.workflow),
        texts,
        CachedClassifier(classifier),
    )
    return summarize(day.run(), traffic, policy)


def test_the_same_seed_gives_the_same_metrics_json() -> None:
    first = json.dumps(_tiny_day(11), sort_keys=True)
    second = json.dumps(_tiny_day(11), sort_keys=True)
    assert first == second


def test_another_seed_gives_another_day() -> None:
    assert json.dumps(_tiny_day(11), sort_keys=True) != json.dumps(_tiny_day(12), sort_keys=True)


def test_every_wait_and_resolution_is_accounted_for_by_kind() -> None:
    metrics = _tiny_day(11)
    by_kind = metrics["conversations_by_kind"]
    assert sum(by_kind.values()) == 60  # type: ignore[union-attr]
    waits = metrics["wait_seconds"]
    kinds = [k.value for k in Kind]
    assert sum(waits[k]["count"] for k in kinds) == waits["all"]["count"]  # type: ignore[index]
    assert 0 < metrics["resolved"] <= 60  # type: ignore[operator]
    # each conversation starts with a wait for an agent
    assert waits["all"]["count"] >= 60  # type: ignore[index]
    assert metrics["agent_hours"] == pytest.approx(3 * 7.5)


def test_without_the_inactive_state_only_shift_ends_pause_conversations() -> None:
    with_inactive = _tiny_day(11, "adaptive")
    without = _tiny_day(11, "adaptive-no-inactive")
    assert with_inactive["inactivated_by"].get("customer_silent", 0) > 0
    assert set(without["inactivated_by"]) <= {"agent_offline"}  # type: ignore[arg-type]


def test_a_comparison_runs_the_candidate_without_the_inactive_state_too() -> None:
    rule_set, classifier, texts = _parts()
    traffic = generate(3, conversations=20, agents=2, texts=texts)
    policies = policies_for(["fifo", "adaptive"])
    results, waits = run_policies(
        traffic,
        policies,
        rule_set.engine.routing,
        rule_set.engine.workflow,
        texts,
        CachedClassifier(classifier),
    )
    assert list(results) == ["fifo", "adaptive", "adaptive-no-inactive"]
    assert set(waits["fifo"]) == {k.value for k in Kind}
