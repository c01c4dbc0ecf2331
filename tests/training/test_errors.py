"""`tidal evaluate --errors`: the held-out mistakes with what decided them and the runner-up."""

from __future__ import annotations

from pathlib import Path

from tests.classify.fakes import FakeScorer, rules_from_yaml
from tidal.engine.classify.pipeline import Classifier
from tidal.training.dataset import Example
from tidal.training.errors import misclassified

RULES = """
rules:
  - id: thanks
    direction: inbound
    intent: gratitude
    scope: whole
    phrases: [thanks]
"""


def _example(text: str, intent: str) -> Example:
    return Example(text, intent, "inbound", "eval/inbound/x.yaml", 7)


def test_mistakes_name_the_rule_and_what_the_model_alone_would_say(tmp_path: Path) -> None:
    scorer = FakeScorer("inbound", answers={"thanks": [("acknowledgement", 0.8), ("other", 0.2)]})
    classifier = Classifier(rules_from_yaml(tmp_path, mine=RULES), {"inbound": scorer})
    [wrong] = misclassified(classifier, [_example("thanks", "acknowledgement")], "inbound")
    assert (wrong.got, wrong.stage, wrong.decided_by) == ("gratitude", "rule", "thanks")
    assert (wrong.runner_up, wrong.runner_up_confidence) == ("acknowledgement", 0.8)
    assert wrong.describe().startswith("eval/inbound/x.yaml:7: 'thanks' expected acknowledgement")


def test_model_and_fallback_mistakes_show_the_runner_up(tmp_path: Path) -> None:
    scorer = FakeScorer(
        "inbound",
        answers={
            "nah": [("deny", 0.6), ("other", 0.4)],
            "my card": [("urgent", 0.9), ("other", 0.1)],
        },
        thresholds={"deny": 0.9},
    )
    classifier = Classifier(rules_from_yaml(tmp_path, mine=RULES), {"inbound": scorer})
    examples = [
        _example("nah", "deny"),
        _example("my card", "other"),
        _example("thanks", "gratitude"),
    ]
    wrong = misclassified(classifier, examples, "inbound")
    assert [(w.example.text, w.got, w.stage, w.runner_up) for w in wrong] == [
        ("nah", "other", "fallback", "deny"),
        ("my card", "urgent", "model", "other"),
    ]
    assert all(w.decided_by == "fake-1" for w in wrong)
