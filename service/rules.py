"""The rule set in service: classifier and engine rules, loaded and swapped together."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from engine.core.intents import Classification, Direction

if TYPE_CHECKING:
    from engine.rulesio.bundle import EngineRules


class TextClassifier(Protocol):
    """What the service needs of a classifier (`engine.classify.pipeline.Classifier`)."""

    def classify(self, text: str, direction: Direction) -> Classification: ...


class CachedClassifier:
    """Remembers the classification of recent texts (per direction).

    Contact-center traffic repeats itself ("thanks!", "ok", "no thanks", the agents'
    stock phrases); classification is pure, so a repeated text gets the same answer
    without running the pipeline again. One cache per rule generation: a reload starts
    with an empty one.
    """

    def __init__(self, classifier: TextClassifier, maxsize: int = 20_000) -> None:
        self.classifier = classifier
        self._cached = lru_cache(maxsize=maxsize)(classifier.classify)

    def classify(self, text: str, direction: Direction) -> Classification:
        if len(text) > MAX_CACHED_TEXT:  # long texts rarely repeat: don't let them evict
            return self.classifier.classify(text, direction)
        return self._cached(text, direction)


#: texts longer than this are classified without the cache
MAX_CACHED_TEXT = 200


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

    Engine rules (catalogue, workflow, routing) and intent rules are checked together,
    so one refusal lists the errors of all files. Blocking (reads files, builds spaCy
    matchers, loads models): call it off the event loop.
    """
    from engine.classify.loading import load_rules, load_scorers
    from engine.classify.pipeline import Classifier

    rule_set = load_rules(rules_dir)
    classifier = CachedClassifier(Classifier(rule_set.intents, load_scorers(models_dir)))
    return ActiveRules(generation, classifier, rule_set.engine, rules_dir, models_dir)
