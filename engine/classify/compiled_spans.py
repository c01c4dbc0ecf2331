"""Fast span finding for intent rules: hash lookups instead of spaCy's Matcher.

spaCy's `Matcher` costs a few microseconds per pattern and message; with hundreds of
patterns that alone would exceed the whole classification budget. Most rule patterns
are plain token sequences (`LOWER`/`LEMMA`/`ORTH` values, `IN` lists, optional `?`
tokens), and phrases are sequences of lower-case words. Those compile to candidate
lists indexed by their first token, so a message costs one dictionary lookup per token
and attribute, plus a check of the few candidates that start there.

Patterns that need more (other operators, `REGEX`, `NOT_IN`, flags such as `IS_DIGIT`)
keep spaCy's `Matcher`, one per pattern, run only when every literal token the pattern
requires occurs in the message, so the costly path is taken only when it can match.

`engine.classify.spacy_spans.SpacySpanFinder` finds the same spans with spaCy alone;
the tests hold the two to exact agreement.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spacy.matcher import Matcher

from engine.classify.intent_rules import IntentRule, TokenPattern
from engine.classify.tokens import TokenizedText, Tokenizer

# Column of `TokenizedText` each attribute reads: 0 orths, 1 lowers, 2 lemmas.
_FAST_ATTRS = {"ORTH": 0, "TEXT": 0, "LOWER": 1, "LEMMA": 2}
# Beyond this many optional tokens a pattern expands into too many sequences.
_MAX_OPTIONAL = 5

Step = tuple[int, frozenset[str]]  # (column, accepted values)
Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class _Sequence:
    rule_index: int
    rest: tuple[Step, ...]  # the steps after the first token


@dataclass(frozen=True, slots=True)
class _Fallback:
    rule_index: int
    gates: tuple[Step, ...]  # literal tokens the message must contain to be worth a run
    matcher: Matcher


def sequences_of(pattern: TokenPattern) -> list[list[Step]] | None:
    """The plain token sequences a pattern stands for, or None if it needs spaCy."""
    steps: list[tuple[Step, bool]] = []
    for token in pattern:
        op = token.get("OP")
        keys = [k for k in token if k != "OP"]
        if op not in (None, "?") or len(keys) != 1 or keys[0] not in _FAST_ATTRS:
            return None
        values = _literal_values(token[keys[0]])
        if values is None:
            return None
        steps.append(((_FAST_ATTRS[keys[0]], values), op == "?"))
    optional = [i for i, (_, is_optional) in enumerate(steps) if is_optional]
    if len(optional) > _MAX_OPTIONAL:
        return None
    result: list[list[Step]] = []
    for dropped in itertools.product((False, True), repeat=len(optional)):
        skip = {i for i, drop in zip(optional, dropped, strict=True) if drop}
        sequence = [step for i, (step, _) in enumerate(steps) if i not in skip]
        if sequence:  # spaCy never reports empty matches
            result.append(sequence)
    return result


def _literal_values(value: Any) -> frozenset[str] | None:
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, dict) and set(value) == {"IN"}:
        members = value["IN"]
        if all(isinstance(v, str) for v in members):
            return frozenset(members)
    return None


def _gates(pattern: TokenPattern) -> tuple[Step, ...]:
    """The literal token specifications a match of `pattern` cannot do without."""
    gates: list[Step] = []
    for token in pattern:
        if token.get("OP") not in (None, "+"):
            continue
        keys = [k for k in token if k != "OP"]
        for key in keys:
            if key in _FAST_ATTRS:
                values = _literal_values(token[key])
                if values is not None:
                    gates.append((_FAST_ATTRS[key], values))
    return tuple(gates)


class CompiledSpanFinder:
    """Finds, per rule, every token span its patterns and phrases match."""

    def __init__(self, rules: Sequence[IntentRule], tokenizer: Tokenizer) -> None:
        self._first: dict[int, dict[str, list[_Sequence]]] = {}
        self._fallbacks: list[_Fallback] = []
        self.fast_count = 0
        for rule_index, rule in enumerate(rules):
            for pattern in rule.patterns:
                sequences = sequences_of(pattern)
                if sequences is None:
                    matcher = Matcher(tokenizer.vocab)
                    matcher.add(rule.id, [pattern])
                    self._fallbacks.append(_Fallback(rule_index, _gates(pattern), matcher))
                    continue
                self.fast_count += 1
                for sequence in sequences:
                    self._index(rule_index, sequence)
            for phrase in rule.phrases:
                words = [w.lower() for w in tokenizer.words(phrase)]
                self._index(rule_index, [(1, frozenset({w})) for w in words])
                self.fast_count += 1
        self._columns_used = sorted(self._first)

    @property
    def fallback_count(self) -> int:
        """Patterns left to spaCy's Matcher."""
        return len(self._fallbacks)

    def _index(self, rule_index: int, sequence: list[Step]) -> None:
        (column, values), rest = sequence[0], tuple(sequence[1:])
        by_value = self._first.setdefault(column, {})
        for value in values:
            by_value.setdefault(value, []).append(_Sequence(rule_index, rest))

    def spans(self, tokens: TokenizedText) -> dict[int, set[Span]]:
        """Rule index -> the (start, end) token spans its patterns and phrases match."""
        columns = (tokens.orths, tokens.lowers, tokens.lemmas)
        length = len(tokens.lowers)
        found: dict[int, set[Span]] = {}
        for column in self._columns_used:
            index = self._first[column]
            for start, value in enumerate(columns[column]):
                candidates = index.get(value)
                if candidates is None:
                    continue
                for candidate in candidates:
                    end = start + 1 + len(candidate.rest)
                    if end > length:
                        continue
                    position = start + 1
                    for step_column, values in candidate.rest:
                        if columns[step_column][position] not in values:
                            break
                        position += 1
                    else:
                        found.setdefault(candidate.rule_index, set()).add((start, end))
        if self._fallbacks:
            self._run_fallbacks(tokens, columns, found)
        return found

    def _run_fallbacks(
        self,
        tokens: TokenizedText,
        columns: tuple[tuple[str, ...], ...],
        found: dict[int, set[Span]],
    ) -> None:
        present: list[set[str]] | None = None
        doc_ready = False
        for fallback in self._fallbacks:
            if fallback.gates:
                if present is None:
                    present = [set(c) for c in columns]
                if not all(present[col].intersection(values) for col, values in fallback.gates):
                    continue
            if not doc_ready:
                # Matcher patterns may test LEMMA: give the Doc Tidal's lemmas.
                for token, lemma in zip(tokens.doc, tokens.lemmas, strict=True):
                    token.lemma_ = lemma
                doc_ready = True
            for _, start, end in fallback.matcher(tokens.doc):
                found.setdefault(fallback.rule_index, set()).add((start, end))
