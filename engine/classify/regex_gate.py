"""Cheap gates for rule regexes: the literal words a regex cannot match without.

A regex search costs microseconds per message even when it fails, and fails on almost
every message. Most rule regexes require one of a few literal words
(`\\b(waited|waiting)\\s+...` needs "wait"), and a substring test on the lower-cased
text costs a fraction of that. The regex runs only when the gate lets it through, so
gating changes speed, never results.

The literals come from Python's own regex parser (`re._parser`, stable across 3.11+);
anything it cannot reason about simply gets no gate.

`required_literal_sets` goes further for ASCII messages: every literal the regex
requires, not only the most telling one (a sign-off needs "have" AND "day" or
"evening"; an offer needs "anything" AND "else" AND "?"). Each set is a necessary
condition, so the conjunction is one too; it is exact only where lower-casing matches
what IGNORECASE matches, which for ASCII text and ASCII literals it does (the only
characters IGNORECASE equates with an ASCII letter but `lower()` does not are "İ",
"ı" and "ſ").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

try:  # the module was `sre_parse` before Python 3.11
    from re import _constants as _sre  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older interpreters
    _parser = None
    _sre = None

#: Gates shorter than this let too much through to be worth checking.
_MIN_LITERAL = 3


def required_literals(expression: str) -> frozenset[str] | None:
    """Lower-case strings one of which occurs in any text `expression` matches, or None."""
    if _parser is None:
        return None
    try:
        parsed = _parser.parse(expression)
    except (re.error, RecursionError):
        return None
    gate = _sequence(list(parsed))
    if gate is None or min(len(s) for s in gate) < _MIN_LITERAL:
        return None
    return frozenset(s.lower() for s in gate)


def _sequence(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    """The most telling literal set a sequence requires: the one whose shortest member
    is longest (None when it requires none)."""
    required = _all_required(items)
    if not required:
        return None
    return max(required, key=lambda c: min(len(s) for s in c))


def _branch(alternatives: list[Any]) -> frozenset[str] | None:
    union: set[str] = set()
    for alternative in alternatives:
        required = _sequence(list(alternative))
        if required is None:
            return None
        union |= required
    return frozenset(union)


def required_literal_sets(expression: str) -> tuple[frozenset[str], ...]:
    """Lower-case literal sets that each must have a member in any text `expression`
    matches (ASCII texts); empty when nothing is known."""
    if _parser is None:
        return ()
    try:
        parsed = _parser.parse(expression)
    except (re.error, RecursionError):
        return ()
    found = _all_required(list(parsed))
    unique = dict.fromkeys(frozenset(s.lower() for s in required) for required in found)
    return tuple(required for required in unique if required)


def _all_required(items: list[tuple[Any, Any]]) -> list[frozenset[str]]:
    """Every literal set a sequence requires: literal runs, required groups and
    repeats (their own requirements), alternations (a member of each branch's best)."""
    required: list[frozenset[str]] = []
    run: list[str] = []
    for op, argument in items:
        if op is _sre.LITERAL:
            run.append(chr(argument))
            continue
        if run:
            required.append(frozenset({"".join(run)}))
            run = []
        if op is _sre.SUBPATTERN:
            required.extend(_all_required(list(argument[-1])))
        elif op is _sre.BRANCH:
            branch = _branch(argument[1])
            if branch is not None:
                required.append(branch)
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and argument[0] >= 1:
            required.extend(_all_required(list(argument[2])))
    if run:
        required.append(frozenset({"".join(run)}))
    return [r for r in required if r and all(s.isascii() for s in r)]


class WordGates:
    """Which regexes an ASCII text can satisfy, from the words it contains.

    Each regex needs a member of every one of its literal sets. A literal without
    whitespace occurs in a text only inside one whitespace-separated word, so a word's
    satisfied sets can be computed once and cached; a literal with whitespace is
    replaced by its longest piece, a weaker condition that is still necessary. A regex
    may match only if all its sets are satisfied by some word: one subset test.
    """

    _CACHE_LIMIT = 100_000

    def __init__(self, requirements: Sequence[tuple[frozenset[str], ...]]) -> None:
        ids: dict[frozenset[str], int] = {}
        needed: list[frozenset[int]] = []
        for sets in requirements:
            own = set()
            for literals in sets:
                pieces = frozenset(max(w.split(), key=len) for w in literals if w.split())
                if len(pieces) == len(literals):  # a literal of spaces alone: no condition
                    own.add(ids.setdefault(pieces, len(ids)))
            needed.append(frozenset(own))
        #: Per regex (in order): the ids of the literal sets it needs.
        self.needed: tuple[frozenset[int], ...] = tuple(needed)
        self._sets = [(i, pieces) for pieces, i in ids.items()]
        self._by_word: dict[str, frozenset[int]] = {}

    def satisfied(self, lowered: str) -> set[int]:
        """The ids of the literal sets `lowered` (an ASCII, lower-cased text) satisfies."""
        found: set[int] = set()
        by_word = self._by_word
        for word in lowered.split():
            ids = by_word.get(word)
            if ids is None:
                ids = frozenset(i for i, pieces in self._sets if any(p in word for p in pieces))
                if len(by_word) < self._CACHE_LIMIT:
                    by_word[word] = ids
            found |= ids
        return found
