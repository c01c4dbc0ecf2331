"""`rules/intents/catalogue.yaml`: the intents known per direction (docs/concepts.md#intents).

Each intent carries a one-line description; teams add their own intents here, and the
workflow rules and the classifier refuse intents the catalogue does not know.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from tidal.engine.core.intents import DIRECTIONS, FALLBACK_INTENT, IntentCatalogue
from tidal.engine.rulesio.errors import FilesInvalid
from tidal.engine.rulesio.located import LocatedDocument, read_yaml, validate

IntentName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Description = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class CatalogueFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    inbound: dict[IntentName, Description]
    outbound: dict[IntentName, Description]


def catalogue_from(doc: LocatedDocument) -> IntentCatalogue | None:
    """The catalogue in `doc`, or None with every problem appended to `doc.errors`."""
    parsed = validate(doc, CatalogueFile)
    if parsed is None:
        return None
    ok = True
    for direction in DIRECTIONS:
        if FALLBACK_INTENT not in getattr(parsed, direction):
            doc.errors.append(
                doc.error(
                    (direction,),
                    "T003",
                    f"{direction}: the fallback intent {FALLBACK_INTENT!r} must be listed",
                )
            )
            ok = False
    if not ok:
        return None
    return IntentCatalogue(inbound=frozenset(parsed.inbound), outbound=frozenset(parsed.outbound))


def descriptions_from(doc: LocatedDocument) -> dict[str, dict[str, str]]:
    """direction → intent → description, for help texts (empty if invalid)."""
    parsed = validate(LocatedDocument(doc.path, doc.data, doc.lines), CatalogueFile)
    if parsed is None:
        return {}
    return {"inbound": dict(parsed.inbound), "outbound": dict(parsed.outbound)}


def load_catalogue(path: Path | str) -> IntentCatalogue:
    """Read and validate a catalogue file; raises `FilesInvalid` with every error."""
    doc = read_yaml(path)
    catalogue = catalogue_from(doc)
    if catalogue is None or doc.errors:
        raise FilesInvalid(doc.errors)
    return catalogue
