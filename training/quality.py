"""Held-out quality of the shipped rules and models, measured the way production runs.

Each workflow case goes through the real path: the classifier (rules, then model, then
fallback) and the `Engine`, on a conversation whose agent's last message had the case's
`after` intent. Intent accuracy is measured per direction on the held-out eval files.
Nothing here is used for training or tuning.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tidal.engine.classify.pipeline import Classifier
from tidal.engine.core.clock import ManualClock
from tidal.engine.core.engine import Engine
from tidal.engine.core.intents import Classification, Direction
from tidal.engine.core.model import IncomingMessage
from tidal.engine.rulesio.bundle import EngineRules
from tidal.training.dataset import WorkflowCase, load_directory, load_workflow_cases

_START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@dataclass
class Score:
    """How many of a held-out set came out right, and which mistakes were made."""

    correct: int = 0
    total: int = 0
    mistakes: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def add(self, text: str, expected: str, got: str) -> None:
        self.total += 1
        if expected == got:
            self.correct += 1
            return
        self.mistakes[(expected, got)] += 1
        self.examples.append((text, expected, got))


def decide(case: WorkflowCase, classifier: Classifier, rules: EngineRules) -> str:
    """The action the engine takes on `case.text`, after an agent message of `case.after`."""
    clock = ManualClock(_START)
    engine = Engine(rules.routing, rules.workflow, clock)
    engine.upsert_agent("a-1", status="available", preferred_concurrency=3, max_concurrency=5)
    engine.handle(
        IncomingMessage("m-0", "c-1", "inbound", "I have a question about my account"),
        Classification("other", 1.0, "rule"),
    )
    if case.after is not None:
        clock.advance(timedelta(seconds=30))
        engine.handle(
            IncomingMessage("m-1", "c-1", "outbound", f"<{case.after}>", agent_id="a-1"),
            Classification(case.after, 1.0, "rule"),
        )
    clock.advance(timedelta(seconds=20))
    outcome = engine.handle(
        IncomingMessage("m-2", "c-1", "inbound", case.text),
        classifier.classify(case.text, "inbound"),
    )
    return outcome.decision.action.value


def score_decisions(cases_path: Path, classifier: Classifier, rules: EngineRules) -> Score:
    score = Score()
    for case in load_workflow_cases(cases_path):
        score.add(case.text, case.expect, decide(case, classifier, rules))
    return score


def score_intents(eval_dir: Path, direction: Direction, classifier: Classifier) -> Score:
    score = Score()
    for example in load_directory(eval_dir / direction, direction):
        got = classifier.classify(example.text, direction).intent
        score.add(example.text, example.intent, got)
    return score
