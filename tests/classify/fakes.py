"""A fake intent model and helpers to build rule sets from YAML text in tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tidal.engine.classify.intent_rules import IntentRules
from tidal.engine.classify.rule_files import intent_rule_files, load_intent_rules
from tidal.engine.core.intents import Direction

SHIPPED_RULES = Path(__file__).resolve().parents[2] / "rules"


@dataclass
class FakeScorer:
    """Answers fixed probabilities per text (or a default), and counts its calls."""

    direction: Direction
    answers: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    default: list[tuple[str, float]] = field(default_factory=lambda: [("other", 1.0)])
    thresholds: dict[str, float] = field(default_factory=dict)
    version: str = "fake-1"
    calls: list[str] = field(default_factory=list)

    @property
    def labels(self) -> Sequence[str]:
        return sorted({i for answer in self.answers.values() for i, _ in answer})

    def predict_proba(self, text: str) -> list[tuple[str, float]]:
        self.calls.append(text)
        return self.answers.get(text, self.default)


def rules_from_yaml(tmp_path: Path, **files: str) -> IntentRules:
    """Write `name=yaml` files under tmp_path/intents and load them."""
    folder = tmp_path / "intents"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return load_intent_rules(intent_rule_files(tmp_path))


def shipped_rules() -> IntentRules:
    return load_intent_rules(intent_rule_files(SHIPPED_RULES))


@dataclass
class FakeCascadeScorer(FakeScorer):
    """A FakeScorer with an encoder stage that decides the texts listed in `encoded`."""

    encoded: set[str] = field(default_factory=set)
    cascade_calls: list[tuple[str, str]] = field(default_factory=list)

    def predict_proba_cascade(
        self, lemma_text: str, text: str
    ) -> tuple[list[tuple[str, float]], bool]:
        self.cascade_calls.append((lemma_text, text))
        return self.answers.get(text, self.default), text in self.encoded
