"""Intent training and evaluation data: the YAML format of `training/data/README.md`.

Every file is validated completely before anything is used, and every problem is
reported as `path:line: [code] what` through `FilesInvalid` (codes of
`tidal.engine.rulesio.errors`): a data scientist fixing a file wants the whole list at once.

Two loaders:

- `load_examples` / `load_directory` read example files (direction, intents → texts)
  into `Example` records, checking intents against the catalogue and that no text is
  labelled twice.
- `load_workflow_cases` reads `training/eval/workflow.yaml`: messages with the last
  outbound intent and the workflow action they must lead to.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr

from tidal.engine.core.intents import DEFAULT_CATALOGUE, DIRECTIONS, Direction, IntentCatalogue
from tidal.engine.rulesio.errors import FileError, FilesInvalid
from tidal.engine.rulesio.located import LocatedDocument, read_yaml, validate

#: The decision-cases file sits beside the held-out examples but has its own format.
WORKFLOW_CASES_FILENAME = "workflow.yaml"

#: The actions an inbound message can lead to (docs/concepts.md#what-a-message-does,
#: docs/rules.md#workflow-rules).
InboundAction = Literal["close", "ignore", "activate", "inactivate", "escalate"]


@dataclass(frozen=True)
class Example:
    """One labelled message and where it was written."""

    text: str
    intent: str
    direction: Direction
    path: str
    line: int
    #: False for data from outside (a public corpus) that trains the model but does
    #: not tune its thresholds: those are set on the project's own intents.
    tunes_thresholds: bool = True


@dataclass(frozen=True)
class WorkflowCase:
    """An inbound message, the intent of the agent's last message, and the expected action."""

    text: str
    after: str | None
    expect: InboundAction
    path: str
    line: int


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty or blank")
    return text


NonBlank = Annotated[StrictStr, AfterValidator(_not_blank)]
IntentExamples = Annotated[list[NonBlank], Field(min_length=1)]


class _ExampleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    direction: Direction
    source: NonBlank
    licence: NonBlank
    #: `false`: the texts train the model but do not tune its per-intent thresholds.
    tune_thresholds: bool = True
    intents: Annotated[dict[str, IntentExamples], Field(min_length=1)]


class _Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: NonBlank
    after: StrictStr | None
    expect: InboundAction


class _CasesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    cases: Annotated[list[_Case], Field(min_length=1)]


_WHITESPACE = re.compile(r"\s+")
_APOSTROPHES = str.maketrans("", "", "'\u2019\u2018`")


def text_key(text: str) -> str:
    """The comparison form of a message: NFKC, lower case, no punctuation, single spaces.

    Two texts with the same key are the same message for labelling purposes ("No." and
    "no"), so they must not carry different intents, and an evaluation text must not
    have the key of a training text.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    # Apostrophes vanish ("that's" = "thats"); other punctuation separates words.
    folded = folded.translate(_APOSTROPHES)
    kept = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in folded)
    return _WHITESPACE.sub(" ", kept).strip()


def load_examples(
    paths: Iterable[Path | str], catalogue: IntentCatalogue = DEFAULT_CATALOGUE
) -> list[Example]:
    """Read example files in the given order; raise `FilesInvalid` with every error."""
    errors: list[FileError] = []
    examples: list[Example] = []
    for path in paths:
        doc = read_yaml(path)
        examples.extend(_examples_of(doc, catalogue))
        errors.extend(doc.errors)
    errors.extend(_labelling_conflicts(examples))
    if errors:
        raise FilesInvalid(errors)
    return examples


def load_directory(
    directory: Path | str,
    direction: Direction | None = None,
    catalogue: IntentCatalogue = DEFAULT_CATALOGUE,
) -> list[Example]:
    """Every `*.yaml` example file below `directory`, in sorted path order.

    `workflow.yaml` files (decision cases) are skipped. With `direction`, only that
    direction's examples are returned (all files are still validated).
    """
    root = Path(directory)
    if not root.is_dir():
        raise FilesInvalid([FileError(str(root), 1, "T008", "not a directory")])
    paths = sorted(p for p in root.rglob("*.yaml") if p.name != WORKFLOW_CASES_FILENAME)
    if not paths:
        raise FilesInvalid([FileError(str(root), 1, "T008", "no *.yaml data files found")])
    examples = load_examples(paths, catalogue)
    if direction is None:
        return examples
    return [e for e in examples if e.direction == direction]


def dataset_hash(examples: Iterable[Example]) -> str:
    """A stable sha256 of the labelled texts, independent of file layout and order."""
    digest = hashlib.sha256()
    for direction, intent, text in sorted({(e.direction, e.intent, e.text) for e in examples}):
        digest.update(json.dumps([direction, intent, text], ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def load_workflow_cases(
    path: Path | str, catalogue: IntentCatalogue = DEFAULT_CATALOGUE
) -> list[WorkflowCase]:
    """Read a decision-cases file; raise `FilesInvalid` with every error."""
    doc = read_yaml(path)
    model = validate(doc, _CasesFile)
    # Intent names and repeats are checked on the raw cases, so they are reported
    # together with schema errors elsewhere in the file.
    raw_cases = doc.data.get("cases") if isinstance(doc.data, dict) else None
    if isinstance(raw_cases, list):
        _check_cases(doc, raw_cases, catalogue)
    if doc.errors or model is None:
        raise FilesInvalid(doc.errors)
    return [
        WorkflowCase(c.text, c.after, c.expect, doc.path, doc.line_of(("cases", i)))
        for i, c in enumerate(model.cases)
    ]


def _check_cases(doc: LocatedDocument, raw_cases: list[Any], catalogue: IntentCatalogue) -> None:
    known = ", ".join(sorted(catalogue.outbound))
    first_line: dict[tuple[str, object], int] = {}
    for i, case in enumerate(raw_cases):
        if not isinstance(case, dict):
            continue
        text, after = case.get("text"), case.get("after")
        if isinstance(after, str) and not catalogue.knows("outbound", after):
            doc.errors.append(
                doc.error(
                    ("cases", i, "after"),
                    "T005",
                    f"unknown outbound intent {after!r} (known: {known})",
                )
            )
        if not isinstance(text, str) or not isinstance(after, str | None):
            continue
        line = doc.line_of(("cases", i))
        seen = first_line.setdefault((text_key(text), after), line)
        if seen != line:
            doc.errors.append(
                doc.error(
                    ("cases", i), "T004", f"case {text!r} after {after!r} repeats line {seen}"
                )
            )


def _examples_of(doc: LocatedDocument, catalogue: IntentCatalogue) -> list[Example]:
    model = validate(doc, _ExampleFile)
    _check_intent_names(doc, catalogue)
    if model is None:
        return []
    folder = Path(doc.path).parent.name
    if folder in DIRECTIONS and folder != model.direction:
        doc.errors.append(
            doc.error(
                ("direction",),
                "T003",
                f"direction: {model.direction} data in the {folder}/ folder",
            )
        )
    examples: list[Example] = []
    for intent, texts in model.intents.items():
        for i, text in enumerate(texts):
            line = doc.line_of(("intents", intent, i))
            examples.append(
                Example(text, intent, model.direction, doc.path, line, model.tune_thresholds)
            )
    return examples


def _check_intent_names(doc: LocatedDocument, catalogue: IntentCatalogue) -> None:
    """Unknown intents, reported even when other parts of the file are invalid."""
    data: Any = doc.data
    if not isinstance(data, dict):
        return
    direction, intents = data.get("direction"), data.get("intents")
    if direction not in ("inbound", "outbound") or not isinstance(intents, dict):
        return
    known = catalogue.for_direction(direction)
    for intent in intents:
        if intent not in known:
            doc.errors.append(
                doc.error(
                    ("intents", intent),
                    "T005",
                    f"unknown {direction} intent {intent!r} (known: {', '.join(sorted(known))})",
                )
            )


def _labelling_conflicts(examples: list[Example]) -> list[FileError]:
    """The same message twice: with another intent (a contradiction) or the same (waste).

    Contradictions are found on `text_key`, so "No." and "no" may not disagree; exact
    repeats only, so "thanks" and "Thanks!" may both teach the same intent.
    """
    errors: list[FileError] = []
    by_key: dict[tuple[str, str], Example] = {}
    by_text: dict[tuple[str, str, str], Example] = {}
    for example in examples:
        seen = by_key.setdefault((example.direction, text_key(example.text)), example)
        if seen.intent != example.intent:
            errors.append(
                FileError(
                    example.path,
                    example.line,
                    "T004",
                    f"{example.text!r} is labelled {example.intent!r} here but "
                    f"{seen.intent!r} at {seen.path}:{seen.line} ({seen.text!r})",
                )
            )
            continue
        exact = by_text.setdefault(
            (example.direction, example.intent, example.text.strip()), example
        )
        if exact is not example:
            errors.append(
                FileError(
                    example.path,
                    example.line,
                    "T004",
                    f"duplicate example {example.text!r} of {example.intent!r} "
                    f"(first at {exact.path}:{exact.line})",
                )
            )
    return errors
