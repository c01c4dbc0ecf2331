"""The real classifier behind a cache: a simulated day repeats many texts, and the
same text in the same direction always gets the same classification."""

from __future__ import annotations

from typing import Protocol

from tidal.engine.core.intents import Classification, Direction


class TextClassifier(Protocol):
    def classify(self, text: str, direction: Direction) -> Classification: ...


class CachedClassifier:
    def __init__(self, classifier: TextClassifier) -> None:
        self._classifier = classifier
        self._cache: dict[tuple[str, Direction], Classification] = {}
        self.misses = 0

    def __call__(self, text: str, direction: Direction) -> Classification:
        key = (text, direction)
        found = self._cache.get(key)
        if found is None:
            self.misses += 1
            found = self._cache[key] = self._classifier.classify(text, direction)
        return found
