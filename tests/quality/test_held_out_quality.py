"""The shipped rules and models meet their held-out quality bar (measured, not tuned on).

The held-out sets in training/eval are never used for training or threshold tuning, so
these are honest regression gates for rule edits and retrained models.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tidal.engine.classify.loading import load_classifier, load_rules
from tidal.engine.classify.pipeline import Classifier
from tidal.engine.rulesio.bundle import EngineRules
from tidal.training.dataset import WorkflowCase
from tidal.training.quality import decide, score_decisions, score_intents

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "training" / "eval"


@pytest.fixture(scope="module")
def rules() -> EngineRules:
    return load_rules(ROOT / "rules").engine


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return load_classifier(ROOT / "rules", ROOT / "models")


def test_held_out_workflow_decisions_are_at_least_97_percent_right(
    classifier: Classifier, rules: EngineRules
) -> None:
    score = score_decisions(EVAL / "workflow.yaml", classifier, rules)
    assert score.total >= 250
    assert score.accuracy >= 0.97, score.examples


def test_held_out_outbound_intents_are_at_least_97_percent_right(classifier: Classifier) -> None:
    score = score_intents(EVAL, "outbound", classifier)
    assert score.accuracy >= 0.97, score.examples


def test_held_out_inbound_intents_are_at_least_93_percent_right(classifier: Classifier) -> None:
    score = score_intents(EVAL, "inbound", classifier)
    assert score.accuracy >= 0.93, score.examples


@pytest.mark.parametrize(
    ("text", "after", "expected"),
    [
        ("No, that's all, thanks!", "offer_more_help", "close"),
        ("thanks!", None, "ignore"),
        ("ok", "hold", "ignore"),
        ("sounds good", "other", "activate"),
        ("Thanks! Also, my card is blocked", "offer_more_help", "activate"),
        ("I'm in a meeting, I'll text you later", "other", "inactivate"),
        ("STOP", "other", "close"),
        ("someone used my card", None, "escalate"),
    ],
)
def test_spec_messages_drive_the_workflow(
    classifier: Classifier, rules: EngineRules, text: str, after: str | None, expected: str
) -> None:
    case = WorkflowCase(text=text, after=after, expect=expected, path="spec", line=1)  # type: ignore[arg-type]
    assert decide(case, classifier, rules) == expected
