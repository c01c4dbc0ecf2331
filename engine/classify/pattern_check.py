"""Checking spaCy token patterns and regexes of intent rules (error code T007).

spaCy's own schema says what is malformed and its `Matcher` catches what the schema
lets through; on top of that come the mistakes spaCy accepts but that make a pattern
useless in Tidal: values YAML turned into booleans (`no`), capitals in lower-case
attributes, and attributes only a trained pipeline would set.
"""

from __future__ import annotations

import re
from typing import Any

# Token attributes only a trained pipeline (tagger, parser, NER) would set.
_NEEDS_MODEL = frozenset(
    {
        "POS",
        "TAG",
        "MORPH",
        "DEP",
        "ENT_TYPE",
        "ENT_IOB",
        "ENT_ID",
        "ENT_KB_ID",
        "SENT_START",
        "IS_SENT_START",
    }
)
# Attributes whose values a lower-case message can match only in lower case.
_LOWER_CASE_ATTRS = ("LOWER", "LEMMA")
# spaCy reports "[pattern -> 0 -> OP -> str-enum[...]] Input should be ...".
_SPACY_PATH = re.compile(r"^\[pattern -> (\d+)(?: -> (.*?))?\] ([A-Z].*)$")


def pattern_problems(pattern: Any) -> list[tuple[int | None, str]]:
    """What is wrong with one token pattern: (token index or None, message) pairs.

    spaCy's schema says what is malformed; the Matcher catches what the schema lets
    through; regexes are compiled; lower-case attributes with capitals can never match.
    """
    from spacy.matcher import Matcher
    from spacy.schemas import validate_token_pattern

    from tidal.engine.classify.nlp import english

    if not isinstance(pattern, list) or not pattern:
        return [(None, "a token pattern must be a non-empty list of token specifications")]
    problems = _boolean_words(pattern)
    if problems:
        return problems
    problems.extend(_schema_problems(pattern, validate_token_pattern(pattern)))
    if problems:
        return problems
    for index, token in enumerate(pattern):
        for attr, value in token.items():
            if attr in _NEEDS_MODEL:
                problems.append(
                    (
                        index,
                        f"token {index} {attr}: needs a trained spaCy pipeline; Tidal "
                        "tokenizes with blank English only, so this can never match",
                    )
                )
                continue
            problems.extend(
                (index, f"token {index} {attr}: {p}") for p in _value_problems(attr, value)
            )
    if problems:
        return problems
    try:
        Matcher(english().vocab, validate=True).add("check", [pattern])
    except (ValueError, KeyError, TypeError) as exc:
        problems.append((None, str(exc).strip().splitlines()[0]))
    return problems


def _schema_problems(pattern: list[Any], messages: list[str]) -> list[tuple[int | None, str]]:
    """spaCy's schema messages, one per token attribute, in words a rule author uses.

    spaCy validates a value against each member of a union (a word, or a predicate
    mapping such as `{IN: [...]}`) and reports a failure for every member; only the one
    that fits the kind of value written is worth showing.
    """
    by_place: dict[tuple[int | None, str], list[tuple[list[str], str]]] = {}
    for raw in messages:
        found = _SPACY_PATH.match(raw)
        if not found:
            by_place.setdefault((None, ""), []).append(([], raw))
            continue
        path, what = found.group(2), found.group(3)
        steps = path.split(" -> ") if path else []
        key = steps[0] if steps else ""
        by_place.setdefault((int(found.group(1)), key), []).append((steps[1:], what))
    problems: list[tuple[int | None, str]] = []
    for (place, key), branches in by_place.items():
        if place is None:
            problems.extend((None, what) for _, what in branches)
            continue
        token = pattern[place] if isinstance(pattern[place], dict) else {}
        problems.append((place, _one_message(place, key, token.get(key), branches)))
    return problems


def _one_message(index: int, key: str, value: Any, branches: list[tuple[list[str], str]]) -> str:
    where = f"token {index}{' ' + key if key else ''}"
    if not key:
        return f"{where}: each token must be a mapping of attributes, like {{LOWER: thanks}}"
    if key == "OP":
        return (
            f"{where}: {value!r} is not an operator: use ? (optional), * (any number), "
            "+ (one or more), ! (never) or a count such as {2} or {1,3}"
        )
    # the branch for a predicate mapping is named TokenPattern...; the others are scalars
    wanted = [
        (steps, what)
        for steps, what in branches
        if bool(steps and steps[0].startswith("TokenPattern")) == isinstance(value, dict)
    ] or branches
    steps, what = wanted[0]
    inner = (
        [s for s in steps[1:] if s not in ("int", "float", "str")]
        if isinstance(value, dict)
        else []
    )
    place = f"{where} {'.'.join(inner)}" if inner else where
    if what == "Extra inputs are not permitted":
        kind = "predicate (IN, NOT_IN, REGEX, ...)" if inner else "token attribute"
        return f"{place}: unknown {kind}"
    return f"{place}: {_plain(what)}"


def _plain(what: str) -> str:
    if what.startswith("Input should be a valid dictionary"):
        return "should be a mapping such as {IN: [...]}"
    return what.replace("Input should be a valid string", "should be text").replace(
        "Input should be", "should be"
    )


def _boolean_words(pattern: list[Any]) -> list[tuple[int | None, str]]:
    # YAML reads unquoted yes/no/on/off/y/n as booleans: the commonest slip in rules
    # about "no" and "yes", so it gets its own message.
    problems: list[tuple[int | None, str]] = []
    for index, token in enumerate(pattern):
        if not isinstance(token, dict):
            continue
        for attr, value in token.items():
            if attr == "OP" or attr.startswith("IS_") or attr.startswith("LIKE_"):
                continue
            if isinstance(value, dict):
                values = [
                    v
                    for key in ("IN", "NOT_IN")
                    if isinstance(value.get(key), list)
                    for v in value[key]
                ]
            else:
                values = [value]
            if any(isinstance(v, bool) for v in values):
                problems.append(
                    (
                        index,
                        f"token {index} {attr}: a value is true/false; YAML reads unquoted "
                        'yes/no/on/off/y/n as booleans, so quote the word ("no")',
                    )
                )
    return problems


def _value_problems(attr: str, value: Any) -> list[str]:
    problems: list[str] = []
    if isinstance(value, dict):
        for predicate, argument in value.items():
            if predicate == "REGEX" and isinstance(argument, str):
                problem = regex_problem(argument)
                if problem:
                    problems.append(problem)
            elif attr in _LOWER_CASE_ATTRS and predicate in ("IN", "NOT_IN"):
                problems.extend(_case_problem(attr, v) for v in argument if _case_problem(attr, v))
    elif attr in _LOWER_CASE_ATTRS and _case_problem(attr, value):
        problems.append(_case_problem(attr, value))
    return problems


def _case_problem(attr: str, value: Any) -> str:
    if isinstance(value, str) and value != value.lower():
        return f"{value!r} has capitals, but {attr} values are lower case: it can never match"
    return ""


def regex_problem(expression: str) -> str:
    """Why `expression` is not a valid Python regex ("" when it is)."""
    try:
        re.compile(expression)
    except re.error as exc:
        return f"invalid regex {expression!r}: {exc}"
    return ""
