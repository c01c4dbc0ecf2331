"""The rule set in service: classifier and engine rules, loaded and swapped together."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from engine.core.intents import Classification, Direction

if TYPE_CHECKING:
    from engine.rulesio.bundle import EngineRules


class TextClassifier(Protocol):
    """What the service needs of a classifier (`engine.classify.pipeline.Classifier`)."""

    def classify(self, text: str, direction: Direction) -> Classification: ...


@dataclass(frozen=True, slots=True)
class ActiveRules:
    """One consistent generation of rules: what classifies and what decides."""

    generation: int
    classifier: TextClassifier
    engine_rules: EngineRules
    rules_dir: Path
    models_dir: Path


def load_active_rules(rules_dir: Path, models_dir: Path, generation: int) -> ActiveRules:
    """Validate and load everything; raises `FilesInvalid` with every error found.

    Blocking (reads files, builds spaCy matchers, loads models): call it off the loop.
    """
    from engine.classify.loading import load_rules, load_scorers
    from engine.classify.pipeline import Classifier

    rule_set = load_rules(rules_dir)
    classifier = Classifier(rule_set.intents, load_scorers(models_dir))
    return ActiveRules(generation, classifier, rule_set.engine, rules_dir, models_dir)
