"""Texts and labels from the project's own outbound examples, for tests that fit a model."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from tidal.engine.core.intents import Direction
from tidal.training.dataset import load_directory

ROOT = Path(__file__).resolve().parents[2]
DIRECTION: Direction = "outbound"


def outbound_examples(folder: str, per_intent: int | None = None) -> tuple[list[str], list[str]]:
    """The outbound examples of `training/<folder>/` (`data` or `eval`), at most
    `per_intent` of each intent (the first ones: small and fast to fit)."""
    kept: dict[str, list[str]] = defaultdict(list)
    for example in load_directory(ROOT / "training" / folder / DIRECTION, direction=DIRECTION):
        if per_intent is None or len(kept[example.intent]) < per_intent:
            kept[example.intent].append(example.text)
    texts = [text for texts in kept.values() for text in texts]
    labels = [intent for intent, texts in kept.items() for _ in texts]
    return texts, labels
