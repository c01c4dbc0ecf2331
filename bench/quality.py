"""Held-out quality of the shipped rules and models: workflow decisions and intents.

    python -m bench.quality [--rules rules] [--models models] [--eval training/eval]

Prints the accuracy of each held-out set beside a rules-only baseline (the same
pipeline without models) and the commonest mistakes, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tidal.engine.classify.loading import load_classifier, load_rules
from tidal.training.quality import Score, score_decisions, score_intents


def _report(name: str, score: Score, baseline: Score) -> None:
    print(
        f"{name:<22} {score.accuracy:7.2%} ({score.correct}/{score.total})"
        f"   rules only {baseline.accuracy:7.2%}"
    )
    for (expected, got), count in score.mistakes.most_common(5):
        print(f"    {count:3d} × expected {expected}, got {got}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=Path("rules"))
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--eval", type=Path, default=Path("training/eval"))
    args = parser.parse_args()

    rules = load_rules(args.rules).engine
    full = load_classifier(args.rules, args.models)
    rules_only = load_classifier(args.rules, None)
    cases = args.eval / "workflow.yaml"

    decisions = score_decisions(cases, full, rules)
    inbound = score_intents(args.eval, "inbound", full)
    outbound = score_intents(args.eval, "outbound", full)
    _report("workflow decisions", decisions, score_decisions(cases, rules_only, rules))
    _report("inbound intents", inbound, score_intents(args.eval, "inbound", rules_only))
    _report("outbound intents", outbound, score_intents(args.eval, "outbound", rules_only))
    print(
        json.dumps(
            {
                "bench": "quality",
                "decision_accuracy": round(decisions.accuracy * 100, 2),
                "inbound_intent_accuracy": round(inbound.accuracy * 100, 2),
                "outbound_intent_accuracy": round(outbound.accuracy * 100, 2),
                "decision_cases": decisions.total,
            }
        )
    )


if __name__ == "__main__":
    main()
