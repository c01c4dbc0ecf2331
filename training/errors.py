"""The held-out messages the classifier gets wrong, with what decided each one.

`tidal evaluate --errors N` prints them so a team can fix a rule or add data in minutes:
each mistake names the stage that decided (a rule, the model, or the fallback below the
model's threshold), the rule id or model version, and the runner-up (for a rule
decision, what the model alone would have said; otherwise the model's next intent).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tidal.engine.classify.pipeline import Classifier
from tidal.engine.core.intents import Direction
from tidal.training.dataset import Example


@dataclass(frozen=True)
class Misclassified:
    """One held-out message the whole pipeline got wrong."""

    example: Example
    got: str
    confidence: float
    stage: str
    decided_by: str
    runner_up: str | None
    runner_up_confidence: float | None

    def describe(self) -> str:
        """One line: where, what was expected, what came out, who decided, runner-up."""
        runner_up = (
            f"{self.runner_up} {self.runner_up_confidence:.2f}"
            if self.runner_up is not None and self.runner_up_confidence is not None
            else "-"
        )
        return (
            f"{self.example.path}:{self.example.line}: {self.example.text!r} expected "
            f"{self.example.intent}, got {self.got} {self.confidence:.2f} "
            f"[{self.stage}: {self.decided_by}; runner-up {runner_up}]"
        )


def misclassified(
    classifier: Classifier, examples: Iterable[Example], direction: Direction
) -> list[Misclassified]:
    """Every example of `direction` whose classification differs from its label."""
    wrong: list[Misclassified] = []
    scorer = classifier.scorers.get(direction)
    for example in examples:
        if example.direction != direction:
            continue
        found = classifier.classify(example.text, direction)
        if found.intent == example.intent:
            continue
        stage = str(getattr(found, "stage", None) or found.source)
        decided_by = found.rule_id or found.model_version or "no model"
        runner_up: tuple[str, float] | None = None
        if found.source == "rule" and scorer is not None:
            ranked = scorer.predict_proba(example.text)
            runner_up = ranked[0] if ranked else None
        elif found.alternatives:
            runner_up = (found.alternatives[0].intent, found.alternatives[0].confidence)
        wrong.append(
            Misclassified(
                example,
                found.intent,
                found.confidence,
                stage,
                decided_by,
                runner_up[0] if runner_up else None,
                runner_up[1] if runner_up else None,
            )
        )
    return wrong
