"""Deciding which intent rule, if any, a message matches (docs/rules.md#intent-rules).

Token spans come from a span finder (the fast compiled one in production, spaCy's
Matcher as the reference); regexes run on the text. An `anywhere` rule matches on any
match; a `whole` rule only when its matches, together with punctuation, emoji and
filler words (and matches of the covering rules of the intents it `allow`s), cover
every token; a `last_sentence` rule when they cover every token of the last sentence
(`sentences.last_sentence_start`). The first matching rule in precedence order wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tidal.engine.classify.intent_rules import COVERING_SCOPES, IntentRule, IntentRules
from tidal.engine.classify.regex_gate import WordGates, required_literal_sets, required_literals
from tidal.engine.classify.sentences import last_sentence_start
from tidal.engine.classify.tokens import DEFAULT_FILLER, TokenizedText, Tokenizer, is_decoration
from tidal.engine.core.intents import DIRECTIONS, Direction

Span = tuple[int, int]


class SpanFinder(Protocol):
    def spans(self, tokens: TokenizedText) -> dict[int, set[Span]]: ...


class SpanFinderFactory(Protocol):
    def __call__(self, rules: Sequence[IntentRule], tokenizer: Tokenizer) -> SpanFinder: ...


@dataclass(frozen=True, slots=True)
class _Regex:
    rule_index: int
    pattern: re.Pattern[str]
    gate: frozenset[str] | None  # lower-case literals it needs (see `regex_gate`)


@dataclass(frozen=True, slots=True)
class _DirectionRules:
    rules: tuple[IntentRule, ...]
    finder: SpanFinder
    regexes: tuple[_Regex, ...]
    regex_gate: re.Pattern[str] | None  # finds the gate literals of all gated regexes
    word_gates: WordGates  # every literal each regex needs, for ASCII texts
    filler: frozenset[str]
    companions: tuple[tuple[int, ...], ...]  # per rule: whole rules of its allowed intents


class IntentRuleMatcher:
    """The intent rules of both directions, compiled for matching."""

    def __init__(
        self,
        rules: IntentRules,
        tokenizer: Tokenizer,
        finder_factory: SpanFinderFactory | None = None,
    ) -> None:
        if finder_factory is None:
            from tidal.engine.classify.compiled_spans import CompiledSpanFinder

            finder_factory = CompiledSpanFinder
        self.rules = rules
        self._decoration: dict[str, bool] = {}
        self._by_direction: dict[Direction, _DirectionRules] = {}
        for direction in DIRECTIONS:
            own = rules.for_direction(direction)
            regexes = tuple(
                _Regex(
                    i,
                    re.compile(expression, re.IGNORECASE),
                    required_literals(expression),
                )
                for i, rule in enumerate(own)
                for expression in rule.regex
            )
            literals = sorted({w for r in regexes if r.gate for w in r.gate})
            gate = re.compile("|".join(map(re.escape, literals))) if literals else None
            companions = tuple(
                tuple(
                    j
                    for j, other in enumerate(own)
                    if j != i and other.scope in COVERING_SCOPES and other.intent in rule.allow
                )
                for i, rule in enumerate(own)
            )
            self._by_direction[direction] = _DirectionRules(
                own,
                finder_factory(own, tokenizer),
                regexes,
                gate,
                WordGates([required_literal_sets(r.pattern.pattern) for r in regexes]),
                DEFAULT_FILLER | rules.filler.get(direction, frozenset()),
                companions,
            )

    def _filler_flags(self, tokens: TokenizedText, filler: frozenset[str]) -> list[bool]:
        """Per token: may a `whole` rule leave it uncovered (filler word, punctuation, emoji)?"""
        flags = []
        known = self._decoration
        for lower, orth in zip(tokens.lowers, tokens.orths, strict=True):
            if lower in filler:
                flags.append(True)
                continue
            decoration = known.get(orth)
            if decoration is None:
                decoration = is_decoration(orth)
                if len(known) < 100_000:
                    known[orth] = decoration
            flags.append(decoration)
        return flags

    def finder(self, direction: Direction) -> SpanFinder:
        return self._by_direction[direction].finder

    def match(self, tokens: TokenizedText, direction: Direction) -> IntentRule | None:
        """The first rule (in precedence order) that matches the message, if any."""
        compiled = self._by_direction[direction]
        if not tokens.lowers:
            return None
        found = compiled.finder.spans(tokens)
        if compiled.regexes:
            self._add_regex_spans(tokens, compiled, found)
        if not found:
            return None
        filler: list[bool] | None = None
        last_start = -1
        for rule_index in sorted(found):
            rule = compiled.rules[rule_index]
            if rule.scope == "anywhere":
                return rule
            if filler is None:
                filler = self._filler_flags(tokens, compiled.filler)
            spans = found[rule_index]
            companions = compiled.companions[rule_index]
            if companions:
                spans = spans.union(*(found.get(j, ()) for j in companions))
            if rule.scope == "whole":
                if covers(len(tokens.lowers), spans, filler):
                    return rule
                continue
            if last_start < 0:
                last_start = last_sentence_start(tokens.lowers, filler)
            if covers_from(last_start, len(tokens.lowers), spans, filler):
                return rule
        return None

    @staticmethod
    def _add_regex_spans(
        tokens: TokenizedText, compiled: _DirectionRules, found: dict[int, set[Span]]
    ) -> None:
        lowered = tokens.text.lower()
        if lowered.isascii():
            # Exact for ASCII text: every literal set the regex requires is present
            # (`regex_gate.WordGates`: cached per word, one subset test per regex).
            satisfied = compiled.word_gates.satisfied(lowered)
            for regex, needed in zip(compiled.regexes, compiled.word_gates.needed, strict=True):
                if needed <= satisfied:
                    _add_hits(tokens, compiled, regex, found)
            return
        # Other texts: one search for every gate literal at once usually rules out all
        # gated regexes; when it does not, each gate is checked on its own.
        any_gate_open = compiled.regex_gate is not None and (
            compiled.regex_gate.search(lowered) is not None
        )
        for regex in compiled.regexes:
            if regex.gate is not None and not (
                any_gate_open and any(word in lowered for word in regex.gate)
            ):
                continue
            _add_hits(tokens, compiled, regex, found)


def _add_hits(
    tokens: TokenizedText, compiled: _DirectionRules, regex: _Regex, found: dict[int, set[Span]]
) -> None:
    whole = compiled.rules[regex.rule_index].scope in COVERING_SCOPES
    for hit in regex.pattern.finditer(tokens.text):
        span = _token_span(tokens, hit.start(), hit.end(), inside=whole)
        if span is not None:
            found.setdefault(regex.rule_index, set()).add(span)


def _token_span(tokens: TokenizedText, start: int, end: int, *, inside: bool) -> Span | None:
    """The tokens a regex match covers: those lying entirely inside it (for `whole`
    coverage), or every token it touches (for `anywhere`, where any match counts)."""
    if end == start:
        return None
    chosen = []
    for i in range(len(tokens.lowers)):
        token_start, token_end = tokens.char_span(i)
        if inside:
            if start <= token_start and token_end <= end:
                chosen.append(i)
        elif token_start < end and start < token_end:
            chosen.append(i)
    return (chosen[0], chosen[-1] + 1) if chosen else None


def covers(length: int, spans: Iterable[Span], filler: Sequence[bool]) -> bool:
    """True when the spans (overlapping or not) and filler tokens cover all `length` tokens."""
    covered = list(filler)
    assert len(covered) == length
    for start, end in spans:
        covered[start:end] = [True] * (end - start)
    return all(covered)


def covers_from(start: int, length: int, spans: Iterable[Span], filler: Sequence[bool]) -> bool:
    """True when the spans (clipped to `start`) and filler cover tokens `start`..`length`."""
    covered = list(filler[start:length])
    for span_start, span_end in spans:
        if span_end <= start:
            continue
        lo = max(span_start, start) - start
        covered[lo : span_end - start] = [True] * (span_end - start - lo)
    return all(covered)
