"""Cheap gates for rule regexes: the literal words a regex cannot match without.

A regex search costs microseconds per message even when it fails, and fails on almost
every message. Most rule regexes require one of a few literal words
(`\\b(waited|waiting)\\s+...` needs "wait"), and a substring test on the lower-cased
text costs a fraction of that. The regex runs only when the gate lets it through, so
gating changes speed, never results.

The literals come from Python's own regex parser (`re._parser`, stable across 3.11+);
anything it cannot reason about simply gets no gate.
"""

from __future__ import annotations

import re
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
    candidates: list[frozenset[str]] = []
    run: list[str] = []
    for op, argument in items:
        if op is _sre.LITERAL:
            run.append(chr(argument))
            continue
        if run:
            candidates.append(frozenset({"".join(run)}))
            run = []
        required: frozenset[str] | None = None
        if op is _sre.SUBPATTERN:
            required = _sequence(list(argument[-1]))
        elif op is _sre.BRANCH:
            required = _branch(argument[1])
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and argument[0] >= 1:
            required = _sequence(list(argument[2]))
        if required is not None:
            candidates.append(required)
    if run:
        candidates.append(frozenset({"".join(run)}))
    usable = [c for c in candidates if c and all(s.isascii() for s in c)]
    if not usable:
        return None
    return max(usable, key=lambda c: min(len(s) for s in c))


def _branch(alternatives: list[Any]) -> frozenset[str] | None:
    union: set[str] = set()
    for alternative in alternatives:
        required = _sequence(list(alternative))
        if required is None:
            return None
        union |= required
    return frozenset(union)
