"""YAML loading that remembers where every value came from.

PyYAML silently keeps the last of duplicate keys, so we compose the node tree once,
reject duplicates there, and build plain Python data together with a map from each
value's location (a tuple of keys and indices, as pydantic reports it) to its line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from tidal.engine.rulesio.errors import FileError

Location = tuple[str | int, ...]
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass
class LocatedDocument:
    """Plain data from one YAML file, and the line (1-based) of every value in it."""

    path: str
    data: Any
    lines: dict[Location, int] = field(default_factory=dict)
    errors: list[FileError] = field(default_factory=list)

    def line_of(self, location: Iterable[str | int]) -> int:
        """The line of the deepest known prefix of `location` (1 for the whole file)."""
        loc = tuple(location)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    def error(self, location: Iterable[str | int], code: str, message: str) -> FileError:
        return FileError(self.path, self.line_of(location), code, message)


def parse_yaml(text: str, path: str) -> LocatedDocument:
    """Parse `text`; syntax errors and duplicate keys land in `errors`, not exceptions."""
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            line, what = _syntax_error(exc, text)
            return LocatedDocument(path, None, errors=[FileError(path, line, "T001", what)])
        except yaml.YAMLError as exc:
            return LocatedDocument(path, None, errors=[FileError(path, 1, "T001", str(exc))])
        doc = LocatedDocument(path, None)
        if node is None:
            doc.errors.append(FileError(path, 1, "T008", "the file is empty"))
            return doc
        doc.data = _build(loader, node, (), doc)
        return doc
    finally:
        loader.dispose()


#: contexts whose mark is where the broken construct starts (a key missing its ':', an
#: unclosed quote or bracket): the mistake is there, not where the parser gave up
_STARTED_AT_CONTEXT = ("while scanning a", "while parsing a flow")
#: what those contexts mean to someone editing the file
_CONTEXT_WORDS = {
    "while scanning a simple key": "this line is neither `key: value` nor a list item "
    "(is a ':' missing?)",
    "while scanning a quoted scalar": "a quote opened on this line is not closed",
    "while parsing a flow sequence": "a '[' opened on this line is not closed",
    "while parsing a flow mapping": "a '{' opened on this line is not closed",
}


def _syntax_error(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, str]:
    """(line, message) of a YAML syntax error, on the line where the mistake is."""
    problem = exc.problem or "invalid YAML"
    problem_line = exc.problem_mark.line + 1 if exc.problem_mark is not None else 1
    context = exc.context or ""
    if exc.context_mark is not None and context.startswith(_STARTED_AT_CONTEXT):
        line = exc.context_mark.line + 1
        what = _CONTEXT_WORDS.get(context, context)
        if line == problem_line:
            return line, f"{what}: {problem}"
        return line, f"{what}: {problem} (line {problem_line})"
    if problem == "mapping values are not allowed here":
        start = _runaway_scalar_line(text)
        if start is not None and start < problem_line:
            # `key value` without its ':' runs on into the next line's `key:`
            return start, (
                f"the text on this line runs on to line {problem_line}, where ':' is not "
                "allowed: is a ':' missing here, or is that line indented too far?"
            )
    return problem_line, " ".join(p for p in (context, problem) if p)


def _runaway_scalar_line(text: str) -> int | None:
    """The line where the last plain value before a syntax error starts."""
    start: int | None = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.ScalarToken):
                start = token.start_mark.line + 1
    except yaml.YAMLError:
        return start
    return None


def read_yaml(path: Path | str) -> LocatedDocument:
    """Read and parse one file; an unreadable file becomes a `T008` error."""
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return LocatedDocument(shown, None, errors=[FileError(shown, 1, "T008", str(exc))])
    return parse_yaml(text, shown)


def _build(loader: yaml.SafeLoader, node: yaml.Node, loc: Location, doc: LocatedDocument) -> Any:
    doc.lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<)
        result: dict[Any, Any] = {}
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str | int | float | bool) and key is not None:
                doc.errors.append(
                    FileError(doc.path, key_line, "T001", "mapping keys must be scalars")
                )
                continue
            if key in first_seen:
                doc.errors.append(
                    FileError(
                        doc.path,
                        key_line,
                        "T002",
                        f"duplicate key {key!r} (first defined on line {first_seen[key]})",
                    )
                )
                continue
            first_seen[key] = key_line
            child_loc = (*loc, key if isinstance(key, str | int) else str(key))
            doc.lines[child_loc] = key_line
            result[key] = _build(loader, value_node, child_loc, doc)
            doc.lines[child_loc] = key_line
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*loc, i), doc) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def validate(doc: LocatedDocument, model: type[ModelT], *, context: Any = None) -> ModelT | None:
    """Validate `doc.data` against a pydantic model; errors are appended with their lines."""
    if doc.data is None and doc.errors:
        return None
    try:
        return model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            where = ".".join(str(p) for p in loc)
            message = _humane(err)
            doc.errors.append(doc.error(loc, "T003", f"{where}: {message}" if where else message))
        return None


def _humane(err: Any) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = str(err.get("msg", "invalid value"))
    # pydantic prefixes custom ValueErrors with "Value error, "; users need only the reason.
    return msg.removeprefix("Value error, ")
