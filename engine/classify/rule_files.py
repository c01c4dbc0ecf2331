"""Reading and validating intent rule files (`rules/intents/*.yaml`, docs/rules.md#intent-rules,
docs/rules.md#validation).

Format (every key but `rules` optional)::

    filler: [um, uh]                 # words this file's `whole` rules may leave uncovered
    rules:
      - id: inbound-gratitude
        direction: inbound
        intent: gratitude
        scope: whole                 # or last_sentence, or anywhere
        allow: [acknowledgement]     # whole rules: companion intents ("ok thanks")
        patterns:                    # spaCy token patterns
          - [{LEMMA: thank}, {LOWER: {IN: [you, u]}, OP: "?"}]
        phrases: [much appreciated]  # matched on lower-case tokens
        regex: ['^ty+$']             # Python regexes on the text, case-insensitive
    tests:
      - {text: "thanks!", intent: gratitude}   # direction defaults to the rules'

Token patterns are checked with spaCy's own schema and `Matcher`, regexes with `re`.
Every error of every file is collected before `FilesInvalid` is raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, model_validator

from tidal.engine.classify.intent_rules import IntentRule, IntentRules, RuleTestCase
from tidal.engine.classify.pattern_check import pattern_problems, regex_problem
from tidal.engine.core.intents import DEFAULT_CATALOGUE, Direction, IntentCatalogue
from tidal.engine.rulesio.errors import FileError, FilesInvalid
from tidal.engine.rulesio.located import LocatedDocument, read_yaml, validate

#: The catalogue sits in the same directory but has its own format and owner.
CATALOGUE_FILENAME = "catalogue.yaml"

RuleId = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
NonEmpty = Annotated[StrictStr, Field(min_length=1)]

ItemT = TypeVar("ItemT", bound=BaseModel)


class _RuleSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: RuleId
    direction: Literal["inbound", "outbound"]
    intent: NonEmpty
    scope: Literal["whole", "last_sentence", "anywhere"]
    description: StrictStr | None = None
    allow: list[NonEmpty] = []
    patterns: list[Any] = []
    phrases: list[NonEmpty] = []
    regex: list[NonEmpty] = []

    @model_validator(mode="after")
    def _matches_something(self) -> _RuleSchema:
        if not (self.patterns or self.phrases or self.regex):
            raise ValueError("a rule needs at least one of patterns, phrases or regex")
        if self.allow and self.scope == "anywhere":
            raise ValueError(
                "allow: only rules with scope whole or last_sentence can allow companion intents"
            )
        return self


class _TestSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: StrictStr
    intent: NonEmpty
    direction: Literal["inbound", "outbound"] | None = None


class _FileSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filler: list[NonEmpty] = []
    # Validated one by one below, so that one malformed rule does not hide the
    # problems of the others.
    rules: list[Any] = []
    tests: list[Any] = []


def intent_rule_files(rules_dir: Path | str) -> list[Path]:
    """The intent rule files of a rules directory, in precedence order (by name)."""
    folder = Path(rules_dir) / "intents"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.yaml") if p.name != CATALOGUE_FILENAME and p.is_file())


def load_intent_rules(
    paths: Iterable[Path | str], catalogue: IntentCatalogue = DEFAULT_CATALOGUE
) -> IntentRules:
    """Read, validate and gather the given files; raises `FilesInvalid` with every error."""
    rules, errors = check_intent_rules(paths, catalogue)
    if errors or rules is None:
        raise FilesInvalid(errors)
    return rules


def check_intent_rules(
    paths: Iterable[Path | str], catalogue: IntentCatalogue = DEFAULT_CATALOGUE
) -> tuple[IntentRules | None, list[FileError]]:
    """Like `load_intent_rules`, but returns the errors instead of raising."""
    all_rules: list[IntentRule] = []
    tests: list[RuleTestCase] = []
    filler: dict[Direction, set[str]] = {"inbound": set(), "outbound": set()}
    errors: list[FileError] = []
    first_seen: dict[str, IntentRule] = {}
    for path in paths:
        doc = read_yaml(path)
        parsed = validate(doc, _FileSchema)
        if parsed is not None:
            file_rules = _rules_of(doc, parsed, catalogue)
            for rule in file_rules:
                earlier = first_seen.get(rule.id)
                if earlier is not None:
                    doc.errors.append(
                        FileError(
                            rule.path,
                            rule.line,
                            "T004",
                            f"duplicate rule id {rule.id!r} (first defined at "
                            f"{earlier.path}:{earlier.line})",
                        )
                    )
                    continue
                first_seen[rule.id] = rule
                all_rules.append(rule)
            tests.extend(_tests_of(doc, parsed, catalogue))
            directions: set[Direction] = {rule.direction for rule in file_rules}
            for direction in directions or {"inbound", "outbound"}:
                filler[direction].update(word.lower() for word in parsed.filler)
        errors.extend(doc.errors)
    if errors:
        return None, errors
    frozen = {direction: frozenset(words) for direction, words in filler.items()}
    return IntentRules(tuple(all_rules), tuple(tests), frozen), []


def _rules_of(
    doc: LocatedDocument, parsed: _FileSchema, catalogue: IntentCatalogue
) -> list[IntentRule]:
    rules: list[IntentRule] = []
    for i, raw in enumerate(parsed.rules):
        where: tuple[str | int, ...] = ("rules", i)
        rule = _validate_item(doc, where, raw, _RuleSchema)
        if rule is None:
            continue
        ok = True
        if not catalogue.knows(rule.direction, rule.intent):
            known = ", ".join(sorted(catalogue.for_direction(rule.direction)))
            doc.errors.append(
                doc.error(
                    (*where, "intent"),
                    "T005",
                    f"unknown {rule.direction} intent {rule.intent!r} (known: {known})",
                )
            )
            ok = False
        for j, companion in enumerate(rule.allow):
            if not catalogue.knows(rule.direction, companion):
                doc.errors.append(
                    doc.error(
                        (*where, "allow", j),
                        "T005",
                        f"allow.{j}: unknown {rule.direction} intent {companion!r}",
                    )
                )
                ok = False
        for j, pattern in enumerate(rule.patterns):
            for k, message in pattern_problems(pattern):
                loc = (*where, "patterns", j) if k is None else (*where, "patterns", j, k)
                doc.errors.append(doc.error(loc, "T007", f"patterns.{j}: {message}"))
                ok = False
        for j, expression in enumerate(rule.regex):
            problem = regex_problem(expression)
            if problem:
                doc.errors.append(doc.error((*where, "regex", j), "T007", f"regex.{j}: {problem}"))
                ok = False
        if ok:
            rules.append(
                IntentRule(
                    id=rule.id,
                    direction=rule.direction,
                    intent=rule.intent,
                    scope=rule.scope,
                    patterns=tuple(rule.patterns),
                    phrases=tuple(rule.phrases),
                    regex=tuple(rule.regex),
                    path=doc.path,
                    line=doc.line_of(where),
                    allow=frozenset(rule.allow),
                )
            )
    return rules


def _tests_of(
    doc: LocatedDocument, parsed: _FileSchema, catalogue: IntentCatalogue
) -> list[RuleTestCase]:
    directions = {raw.get("direction") for raw in parsed.rules if isinstance(raw, dict)} & {
        "inbound",
        "outbound",
    }
    cases: list[RuleTestCase] = []
    for i, raw in enumerate(parsed.tests):
        where: tuple[str | int, ...] = ("tests", i)
        test = _validate_item(doc, where, raw, _TestSchema)
        if test is None:
            continue
        direction: Direction
        if test.direction is not None:
            direction = test.direction
        elif len(directions) == 1:
            direction = "inbound" if "inbound" in directions else "outbound"
        else:
            doc.errors.append(
                doc.error(
                    where,
                    "T003",
                    f"tests.{i}.direction: required when the file's rules do not all "
                    "have one direction",
                )
            )
            continue
        if not catalogue.knows(direction, test.intent):
            doc.errors.append(
                doc.error((*where, "intent"), "T005", f"unknown {direction} intent {test.intent!r}")
            )
            continue
        cases.append(RuleTestCase(test.text, test.intent, direction, doc.path, doc.line_of(where)))
    return cases


def _validate_item(
    doc: LocatedDocument, where: tuple[str | int, ...], raw: Any, model: type[ItemT]
) -> ItemT | None:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = (*where, *err["loc"])
            shown = ".".join(str(p) for p in loc)
            doc.errors.append(doc.error(loc, "T003", f"{shown}: {_describe(err)}"))
        return None


def _describe(err: Any) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind == "string_type" and isinstance(err.get("input"), bool):
        return (
            "true/false where a string belongs: YAML reads unquoted yes/no/on/off as "
            'booleans, so quote it ("no")'
        )
    return str(err.get("msg", "invalid value")).removeprefix("Value error, ")
