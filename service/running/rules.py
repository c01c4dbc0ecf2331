"""The rule set in service: classifier and engine rules, loaded and swapped together."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tidal.engine.core.intents import Classification, Direction

if TYPE_CHECKING:
    from tidal.engine.rulesio.bundle import EngineRules


class TextClassifier(Protocol):
    """What the service needs of a classifier (`tidal.engine.classify.pipeline.Classifier`)."""

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
        self._maxsize = maxsize
        # first in, first out: a hit costs one look-up, which the event loop and the
        # engine thread can both make without a lock
        self._known: OrderedDict[tuple[str, Direction], Classification] = OrderedDict()
        self._adding = threading.Lock()  # the loop and the engine thread both add

    def classify(self, text: str, direction: Direction) -> Classification:
        known = self._known.get((text, direction))
        if known is not None:
            return known
        classification = self.classifier.classify(text, direction)
        self.remember(text, direction, classification)
        return classification

    def cached(self, text: str, direction: Direction) -> Classification | None:
        """The classification of a text seen recently, if any (no classifying)."""
        return self._known.get((text, direction))

    def remember(self, text: str, direction: Direction, classification: Classification) -> None:
        """Keep a classification made elsewhere (the classifier process) for reuse."""
        if len(text) > MAX_CACHED_TEXT:  # long texts rarely repeat: don't let them evict
            return
        with self._adding:
            if len(self._known) >= self._maxsize:
                self._known.popitem(last=False)
            self._known[(text, direction)] = classification


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
    #: identifies the files loaded (see `files_fingerprint`); None when not loaded from
    #: files, or when they changed during the load
    fingerprint: str | None = None


def files_fingerprint(*folders: Path) -> str:
    """A hash of every file under `folders` (names and bytes): two processes that load
    files with the same fingerprint classify alike."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
        digest.update(b"\1")
    return digest.hexdigest()


def load_active_rules(rules_dir: Path, models_dir: Path, generation: int) -> ActiveRules:
    """Validate and load everything; raises `FilesInvalid` with every error found.

    Engine rules (catalogue, workflow, routing) and intent rules are checked together,
    so one refusal lists the errors of all files. Blocking (reads files, builds spaCy
    matchers, loads models): call it off the event loop.
    """
    from tidal.engine.classify.loading import load_rules, load_scorers
    from tidal.engine.classify.pipeline import Classifier

    before = files_fingerprint(rules_dir, models_dir)
    rule_set = load_rules(rules_dir)
    classifier = CachedClassifier(Classifier(rule_set.intents, load_scorers(models_dir)))
    # files that changed during the load may have been read half old, half new: such a
    # load has no fingerprint, so no other process can claim to classify like it
    fingerprint = before if files_fingerprint(rules_dir, models_dir) == before else None
    return ActiveRules(generation, classifier, rule_set.engine, rules_dir, models_dir, fingerprint)
