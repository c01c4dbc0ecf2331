"""Intent rules as data (docs/rules.md#intent-rules): what a rule file says, after validation.

A rule gives its `intent` to a message when its token patterns, phrases or regexes
match: anywhere in the message (`scope: anywhere`), or, with `scope: whole`, when the
matches together with punctuation, emoji and filler words cover the whole message (and,
if the rule `allow`s companion intents, matches of their whole-scope rules: "no thanks"
is a denial). `scope: last_sentence` asks the same of the message's last sentence only:
an agent's message is judged by what it hands over ("Your table is booked for 7 pm.
Have a great evening!" is a closing).
When several rules match, the first in load order wins (files by name, then the order
inside each file), so precedence is visible in the files themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tidal.engine.core.intents import Direction

Scope = Literal["whole", "last_sentence", "anywhere"]
#: Scopes whose matches must cover a stretch of the message (companions count).
COVERING_SCOPES: frozenset[str] = frozenset({"whole", "last_sentence"})

#: One spaCy token pattern: a list of token specifications (`{"LOWER": "thanks"}`).
TokenPattern = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class IntentRule:
    """One validated rule and where it was written."""

    id: str
    direction: Direction
    intent: str
    scope: Scope
    patterns: tuple[TokenPattern, ...]
    phrases: tuple[str, ...]
    regex: tuple[str, ...]
    path: str
    line: int
    #: `whole` and `last_sentence` rules: intents whose covering rules' matches may
    #: cover the rest ("no thanks" is a denial, the thanks notwithstanding).
    allow: frozenset[str] = frozenset()

    @property
    def pattern_count(self) -> int:
        """Token patterns, phrases and regexes together."""
        return len(self.patterns) + len(self.phrases) + len(self.regex)


@dataclass(frozen=True, slots=True)
class RuleTestCase:
    """A message and the intent the whole pipeline must give it."""

    text: str
    intent: str
    direction: Direction
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class IntentRules:
    """Every intent rule of a rules directory, in precedence order, with its tests."""

    rules: tuple[IntentRule, ...]
    tests: tuple[RuleTestCase, ...]
    #: extra filler words per direction (a file's `filler:` applies to its rules' directions)
    filler: Mapping[Direction, frozenset[str]] = field(default_factory=dict)

    def for_direction(self, direction: Direction) -> tuple[IntentRule, ...]:
        return tuple(rule for rule in self.rules if rule.direction == direction)

    @property
    def pattern_count(self) -> int:
        return sum(rule.pattern_count for rule in self.rules)
