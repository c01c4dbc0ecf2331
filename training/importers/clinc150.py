"""CLINC150 (`data_full.json`): `{split: [[text, intent], ...]}` → `Example`s per split.

Labels are kept as they are (for benchmarking), or mapped to Tidal's inbound intents:
the five conversational intents that have a Tidal counterpart keep their meaning and
every other intent, out-of-scope included, becomes `other`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tidal.engine.core.intents import FALLBACK_INTENT, Direction
from tidal.engine.rulesio.errors import FileError, FilesInvalid
from tidal.training.dataset import Example

SPLITS = ("train", "val", "test", "oos_train", "oos_val", "oos_test")

#: CLINC150 intents with a Tidal inbound counterpart; all others map to `other`.
TIDAL_INTENTS: Mapping[str, str] = {
    "greeting": "greeting",
    "goodbye": "goodbye",
    "thank_you": "gratitude",
    "yes": "affirm",
    "no": "deny",
}

SOURCE = (
    "CLINC150 (Larson et al., 2019, EMNLP-IJCNLP), github.com/clinc/oos-eval, data/data_full.json"
)
LICENCE = "CC BY 3.0"

# One `[text, intent]` pair; used only to find the line of each pair in document order.
_PAIR = re.compile(r'\[\s*("(?:[^"\\]|\\.)*")\s*,\s*("(?:[^"\\]|\\.)*")\s*\]')


def to_tidal(intent: str) -> str:
    """The Tidal inbound intent for a CLINC150 intent."""
    return TIDAL_INTENTS.get(intent, FALLBACK_INTENT)


def read_clinc150(
    path: Path | str, *, map_to_tidal: bool = False, direction: Direction = "inbound"
) -> dict[str, list[Example]]:
    """Every split of the file, in file order; raise `FilesInvalid` with every error."""
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FilesInvalid([FileError(shown, 1, "T008", str(exc))]) from exc
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FilesInvalid([FileError(shown, exc.lineno, "T001", exc.msg)]) from exc
    if not isinstance(data, dict):
        raise FilesInvalid([FileError(shown, 1, "T003", "expected an object of splits")])

    lines = _pair_lines(text)
    errors: list[FileError] = []
    splits: dict[str, list[Example]] = {}
    pair_index = 0
    for split, pairs in data.items():
        if split not in SPLITS:
            errors.append(
                FileError(shown, 1, "T003", f"unknown split {split!r} (known: {', '.join(SPLITS)})")
            )
        if not isinstance(pairs, list):
            errors.append(FileError(shown, 1, "T003", f"{split}: expected a list of pairs"))
            continue
        examples: list[Example] = []
        for i, pair in enumerate(pairs):
            if not _is_pair(pair):
                line = lines[pair_index] if pair_index < len(lines) else 1
                errors.append(
                    FileError(shown, line, "T003", f"{split}.{i}: expected [text, intent]")
                )
                continue
            line = lines[pair_index] if pair_index < len(lines) else 1
            pair_index += 1
            sentence, intent = pair
            if not sentence.strip() or not intent.strip():
                errors.append(FileError(shown, line, "T003", f"{split}.{i}: empty text or intent"))
                continue
            label = to_tidal(intent) if map_to_tidal else intent
            examples.append(Example(sentence, label, direction, shown, line))
        splits[split] = examples
    if errors:
        raise FilesInvalid(errors)
    return splits


def _is_pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)


def _pair_lines(text: str) -> list[int]:
    """The line of the text of each `[text, intent]` pair, in document order."""
    lines: list[int] = []
    line, last = 1, 0
    for match in _PAIR.finditer(text):
        line += text.count("\n", last, match.start(1))
        last = match.start(1)
        lines.append(line)
    return lines
