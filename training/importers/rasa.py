"""Rasa NLU training data (YAML, Rasa 2 and 3) → `Example`s.

Reads the `nlu:` list's `- intent: NAME` items, whose `examples` are either a block
string of `- text` lines or a list of `{text: ..., metadata: ...}` mappings. Entity
annotations are reduced to their text: `[Paris](city)`, `[Paris](city:PAR)`,
`[Paris]{"entity": "city"}` and `[Paris][{"entity": ...}]` all become `Paris`.
Synonyms, regexes, lookups, stories and rules are not intents and are skipped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tidal.engine.core.intents import Direction
from tidal.engine.rulesio.errors import FileError, FilesInvalid
from tidal.engine.rulesio.located import LocatedDocument, read_yaml
from tidal.training.dataset import Example

# [text](entity) / [text](entity:value) / [text]{json} / [text][{json}, ...]
_ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\}|\[\{.*?\}\])")
_ITEM = re.compile(r"^\s*-\s?(.*)$")


def strip_entities(text: str) -> str:
    """`"fly to [Paris](city)"` → `"fly to Paris"`."""
    return _ENTITY.sub(r"\1", text)


def read_rasa(path: Path | str, *, direction: Direction = "inbound") -> list[Example]:
    """The intent examples of one Rasa NLU file; raise `FilesInvalid` with every error."""
    doc = read_yaml(path)
    examples: list[Example] = []
    if not doc.errors:
        nlu = doc.data.get("nlu") if isinstance(doc.data, dict) else None
        if not isinstance(nlu, list):
            doc.errors.append(doc.error((), "T003", "expected a top-level `nlu:` list"))
        else:
            for index, item in enumerate(nlu):
                if isinstance(item, dict) and "intent" in item:
                    examples.extend(_intent_examples(doc, index, item, direction))
    if doc.errors:
        raise FilesInvalid(doc.errors)
    return examples


def _intent_examples(
    doc: LocatedDocument, index: int, item: dict[str, Any], direction: Direction
) -> list[Example]:
    where = ("nlu", index)
    intent, block = item.get("intent"), item.get("examples")
    if not isinstance(intent, str) or not intent.strip():
        doc.errors.append(doc.error((*where, "intent"), "T003", "intent: expected a name"))
        return []
    if isinstance(block, str):
        return _block_examples(doc, where, intent.strip(), block, direction)
    if isinstance(block, list):
        return _listed_examples(doc, where, intent.strip(), block, direction)
    doc.errors.append(
        doc.error(where, "T003", f"intent {intent!r}: `examples` must be a block of `- text` lines")
    )
    return []


def _block_examples(
    doc: LocatedDocument,
    where: tuple[str | int, ...],
    intent: str,
    block: str,
    direction: Direction,
) -> list[Example]:
    # `examples: |` puts the first example on the line after the key.
    first_line = doc.line_of((*where, "examples")) + 1
    examples: list[Example] = []
    errors_before = len(doc.errors)
    for offset, raw in enumerate(block.splitlines()):
        if not raw.strip():
            continue
        line = first_line + offset
        match = _ITEM.match(raw)
        text = strip_entities(match.group(1)).strip() if match else ""
        if match is None:
            doc.errors.append(
                _at(doc, line, f"intent {intent!r}: expected `- text`, found {raw.strip()!r}")
            )
        elif not text:
            doc.errors.append(_at(doc, line, f"intent {intent!r}: empty example"))
        else:
            examples.append(Example(text, intent, direction, doc.path, line))
    if not examples and len(doc.errors) == errors_before:
        doc.errors.append(
            doc.error((*where, "examples"), "T003", f"intent {intent!r} has no examples")
        )
    return examples


def _listed_examples(
    doc: LocatedDocument,
    where: tuple[str | int, ...],
    intent: str,
    items: list[Any],
    direction: Direction,
) -> list[Example]:
    examples: list[Example] = []
    for i, entry in enumerate(items):
        loc = (*where, "examples", i)
        raw = entry.get("text") if isinstance(entry, dict) else None
        text = strip_entities(raw).strip() if isinstance(raw, str) else ""
        if not text:
            doc.errors.append(
                doc.error(loc, "T003", f"intent {intent!r}: expected `text:` with an example")
            )
            continue
        examples.append(Example(text, intent, direction, doc.path, doc.line_of((*loc, "text"))))
    return examples


def _at(doc: LocatedDocument, line: int, message: str) -> FileError:
    return FileError(doc.path, line, "T003", message)
