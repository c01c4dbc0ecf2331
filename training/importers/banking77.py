"""Banking77 CSV (`text,category`) → `Example`s with their original labels.

Every Banking77 query is a substantive banking request, so `map_to_tidal` labels them
all `other`: useful as real-world `other` data next to Tidal's own.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TextIO

from tidal.engine.core.intents import FALLBACK_INTENT, Direction
from tidal.engine.rulesio.errors import FileError, FilesInvalid
from tidal.training.dataset import Example

COLUMNS = ("text", "category")
SOURCE = (
    "Banking77 (Casanueva et al., 2020, NLP4ConvAI), github.com/PolyAI-LDN/task-specific-datasets"
)
LICENCE = "CC BY 4.0"


def read_banking77(
    path: Path | str, *, map_to_tidal: bool = False, direction: Direction = "inbound"
) -> list[Example]:
    """All rows of one CSV file; raise `FilesInvalid` with every error."""
    shown = str(path)
    try:
        with Path(path).open(encoding="utf-8", newline="") as handle:
            return _read(handle, shown, map_to_tidal, direction)
    except (OSError, UnicodeDecodeError) as exc:
        raise FilesInvalid([FileError(shown, 1, "T008", str(exc))]) from exc
    except csv.Error as exc:
        raise FilesInvalid([FileError(shown, 1, "T001", f"invalid CSV: {exc}")]) from exc


def _read(handle: TextIO, shown: str, map_to_tidal: bool, direction: Direction) -> list[Example]:
    rows = csv.reader(handle)
    header = next(rows, None)
    if header is None:
        raise FilesInvalid([FileError(shown, 1, "T008", "the file is empty")])
    if tuple(h.strip() for h in header) != COLUMNS:
        raise FilesInvalid(
            [
                FileError(
                    shown,
                    1,
                    "T003",
                    f"expected the header {','.join(COLUMNS)}, not {','.join(header)}",
                )
            ]
        )
    errors: list[FileError] = []
    examples: list[Example] = []
    line = rows.line_num
    for row in rows:
        # A quoted field may span lines: the row starts after the previous one ended.
        start, line = line + 1, rows.line_num
        if not row:
            continue
        if len(row) != len(COLUMNS):
            errors.append(FileError(shown, start, "T003", f"expected 2 columns, found {len(row)}"))
            continue
        text, category = row
        if not text.strip() or not category.strip():
            errors.append(FileError(shown, start, "T003", "empty text or category"))
            continue
        label = FALLBACK_INTENT if map_to_tidal else category.strip()
        examples.append(Example(text, label, direction, shown, start))
    if errors:
        raise FilesInvalid(errors)
    return examples
