"""Write `Example`s in Tidal's YAML data format (`training/data/README.md`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tidal.engine.core.intents import Direction
from tidal.training.dataset import Example, text_key


@dataclass(frozen=True)
class Written:
    """What `write_examples` wrote and what it left out (the format forbids both)."""

    examples: int
    intents: int
    repeats_skipped: int
    conflicts_skipped: int


def render(
    examples: Iterable[Example],
    *,
    direction: Direction,
    source: str,
    licence: str,
    tune_thresholds: bool = True,
) -> tuple[str, Written]:
    """The file text: intents in order of first appearance, texts in input order.

    A text already written for the same intent is left out (a repeat), and so is one
    already written for another intent (a contradiction the loader would reject).
    """
    by_intent: dict[str, list[str]] = {}
    first_intent: dict[str, str] = {}
    repeats = conflicts = 0
    for example in examples:
        if example.direction != direction:
            raise ValueError(f"{example.path}:{example.line}: example is {example.direction}")
        key = text_key(example.text)
        seen = first_intent.setdefault(key, example.intent)
        texts = by_intent.setdefault(example.intent, [])
        if seen != example.intent:
            conflicts += 1
        elif example.text in texts:
            repeats += 1
        else:
            texts.append(example.text)
    lines = [
        "version: 1",
        f"direction: {direction}",
        f"source: {_quoted(source)}",
        f"licence: {_quoted(licence)}",
        *([] if tune_thresholds else ["tune_thresholds: false"]),
        "intents:",
    ]
    # Keys are quoted too: YAML would read an intent named `yes` or `no` as a boolean.
    for intent, texts in by_intent.items():
        if texts:
            lines.append(f"  {_quoted(intent)}:")
            lines.extend(f"    - {_quoted(text)}" for text in texts)
    written = Written(
        examples=sum(len(t) for t in by_intent.values()),
        intents=sum(1 for t in by_intent.values() if t),
        repeats_skipped=repeats,
        conflicts_skipped=conflicts,
    )
    return "\n".join(lines) + "\n", written


def write_examples(
    examples: Iterable[Example],
    out: Path | str,
    *,
    direction: Direction,
    source: str,
    licence: str,
    tune_thresholds: bool = True,
) -> Written:
    """Write one Tidal data file (parent folders are created)."""
    text, written = render(
        examples,
        direction=direction,
        source=source,
        licence=licence,
        tune_thresholds=tune_thresholds,
    )
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return written


def _quoted(value: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar, escapes included.
    return json.dumps(value, ensure_ascii=False)
