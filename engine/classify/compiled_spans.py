"""Fast span finding for intent rules: hash lookups instead of spaCy's Matcher.

spaCy's `Matcher` costs a few microseconds per pattern and message; with hundreds of
patterns that alone would exceed the whole classification budget. Most rule patterns
are plain token sequences (`LOWER`/`LEMMA`/`ORTH` values, `IN` lists, optional `?`
tokens), and phrases are sequences of lower-case words. Those compile to candidate
lists indexed by their first token, so a message costs one dictionary lookup per token
and attribute, plus a check of the few candidates that start there.

The candidates form a trie (see `_Node`). Boolean flags (`IS_PUNCT`, `IS_TITLE`, ...)
are columns too, read from spaCy's lexemes. Patterns that need more (other operators,
`REGEX`, `NOT_IN`, `LENGTH`, ...) keep spaCy's `Matcher`, one per pattern, run only
when every literal token the pattern requires occurs in the message, so the costly path
is taken only when it can match.

`tidal.engine.classify.spacy_spans.SpacySpanFinder` finds the same spans with spaCy alone;
the tests hold the two to exact agreement.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spacy.matcher import Matcher

from tidal.engine.classify.intent_rules import IntentRule, TokenPattern
from tidal.engine.classify.tokens import TokenizedText, Tokenizer

# Column of `TokenizedText` each attribute reads: 0 orths, 1 lowers, 2 lemmas.
_FAST_ATTRS = {"ORTH": 0, "TEXT": 0, "LOWER": 1, "LEMMA": 2}
# Boolean lexical flags, read from spaCy's lexemes (as its Matcher does): columns 3...
_FLAGS = (
    "IS_PUNCT",
    "IS_TITLE",
    "IS_DIGIT",
    "IS_ALPHA",
    "IS_UPPER",
    "IS_LOWER",
    "LIKE_NUM",
    "IS_ASCII",
    "IS_STOP",
    "IS_CURRENCY",
    "LIKE_URL",
    "LIKE_EMAIL",
)
_FLAG_COLUMNS = {flag: 3 + i for i, flag in enumerate(_FLAGS)}
# Beyond this many optional tokens a pattern expands into too many sequences.
_MAX_OPTIONAL = 5

Step = tuple[int, frozenset[str]]  # (column, accepted values)
Span = tuple[int, int]


class _Node:
    """A trie node: token specifications lead to children; terminals end a sequence.

    Children are reached by (column, value): `edges` lists each column in use with a
    map from a token's value in that column to the children accepting it. A child
    stands for one (column, accepted values) step, shared by every sequence that
    takes that same step from here, so optional-token expansions and patterns with a
    common beginning are walked once.
    """

    __slots__ = ("_children", "edges", "terminals")

    def __init__(self) -> None:
        self._children: dict[Step, _Node] = {}
        self.edges: list[tuple[int, dict[str, list[_Node]]]] = []
        self.terminals: list[int] = []

    def child(self, step: Step) -> _Node:
        node = self._children.get(step)
        if node is None:
            node = self._children[step] = _Node()
            column, values = step
            by_value = next((index for c, index in self.edges if c == column), None)
            if by_value is None:
                by_value = {}
                self.edges.append((column, by_value))
            for value in values:
                by_value.setdefault(value, []).append(node)
        return node


@dataclass(frozen=True, slots=True)
class _Fallback:
    rule_index: int
    gates: tuple[Step, ...]  # literal tokens the message must contain to be worth a run
    matcher: Matcher
    needs_lemmas: bool


def sequences_of(pattern: TokenPattern) -> list[list[Step]] | None:
    """The plain token sequences a pattern stands for, or None if it needs spaCy."""
    steps: list[tuple[Step, bool]] = []
    for token in pattern:
        op = token.get("OP")
        keys = [k for k in token if k != "OP"]
        if op not in (None, "?") or len(keys) != 1:
            return None
        key, value = keys[0], token[keys[0]]
        if key in _FLAG_COLUMNS and isinstance(value, bool):
            steps.append(((_FLAG_COLUMNS[key], frozenset({"1" if value else "0"})), op == "?"))
            continue
        values = _literal_values(value) if key in _FAST_ATTRS else None
        if values is None:
            return None
        steps.append(((_FAST_ATTRS[key], values), op == "?"))
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
        self._root = _Node()
        self._fallbacks: list[_Fallback] = []
        self._vocab = tokenizer.vocab
        self._flags_of: dict[str, tuple[str, ...]] = {}
        self.fast_count = 0
        for rule_index, rule in enumerate(rules):
            for pattern in rule.patterns:
                sequences = sequences_of(pattern)
                if sequences is None:
                    matcher = Matcher(tokenizer.vocab)
                    matcher.add(rule.id, [pattern])
                    self._fallbacks.append(
                        _Fallback(rule_index, _gates(pattern), matcher, "LEMMA" in repr(pattern))
                    )
                    continue
                self.fast_count += 1
                for sequence in sequences:
                    self._insert(rule_index, sequence)
            for phrase in rule.phrases:
                words = [w.lower() for w in tokenizer.words(phrase)]
                self._insert(rule_index, [(1, frozenset({w})) for w in words])
                self.fast_count += 1

    @property
    def fallback_count(self) -> int:
        """Patterns left to spaCy's Matcher."""
        return len(self._fallbacks)

    def _insert(self, rule_index: int, sequence: list[Step]) -> None:
        node = self._root
        for step in sequence:
            node = node.child(step)
        if rule_index not in node.terminals:
            node.terminals.append(rule_index)

    def spans(self, tokens: TokenizedText) -> dict[int, set[Span]]:
        """Rule index -> the (start, end) token spans its patterns and phrases match."""
        # Flag columns are filled on first use: most messages never reach a flag step.
        columns: list[tuple[str, ...] | None] = [tokens.orths, tokens.lowers, tokens.lemmas]
        columns.extend([None] * len(_FLAGS))
        length = len(tokens.lowers)
        found: dict[int, set[Span]] = {}
        # Depth-first walk of the trie from every start position at once; most
        # positions stop at the root lookup. (Plain loops: this is the hot path.)
        stack: list[tuple[_Node, int, int]] = []
        for column, by_value in self._root.edges:
            get = by_value.get
            values = columns[column]
            if values is None:
                values = columns[column] = self._flag_column(tokens.orths, column)
            for start, children in enumerate(map(get, values)):
                if children is not None:
                    for child in children:
                        stack.append((child, start, start + 1))
        while stack:
            node, start, position = stack.pop()
            for rule_index in node.terminals:
                spans = found.get(rule_index)
                if spans is None:
                    found[rule_index] = {(start, position)}
                else:
                    spans.add((start, position))
            if position < length:
                for column, by_value in node.edges:
                    values = columns[column]
                    if values is None:
                        values = columns[column] = self._flag_column(tokens.orths, column)
                    children = by_value.get(values[position])
                    if children is not None:
                        for child in children:
                            stack.append((child, start, position + 1))
        if self._fallbacks:
            self._run_fallbacks(tokens, columns, found)
        return found

    def _flag_column(self, orths: tuple[str, ...], column: int) -> tuple[str, ...]:
        """One flag's column: "1" or "0" per token, read from the lexeme as spaCy's
        Matcher does (all flags of a word are cached together)."""
        flags_of = self._flags_of
        result = []
        for orth in orths:
            flags = flags_of.get(orth)
            if flags is None:
                lexeme = self._vocab[orth]
                flags = tuple("1" if getattr(lexeme, f.lower()) else "0" for f in _FLAGS)
                if len(flags_of) < 100_000:
                    flags_of[orth] = flags
            result.append(flags[column - 3])
        return tuple(result)

    def _run_fallbacks(
        self,
        tokens: TokenizedText,
        columns: list[tuple[str, ...] | None],
        found: dict[int, set[Span]],
    ) -> None:
        lemmas_set = False
        present: list[set[str] | None] = [None, None, None]
        for fallback in self._fallbacks:
            gated_out = False
            for column, values in fallback.gates:
                words = present[column]
                if words is None:
                    words = present[column] = set(columns[column] or ())  # gates: columns 0-2
                if values.isdisjoint(words):
                    gated_out = True
                    break
            if gated_out:
                continue
            if fallback.needs_lemmas and not lemmas_set:
                # The pattern tests LEMMA: give the Doc Tidal's lemmas.
                for token, lemma in zip(tokens.doc, tokens.lemmas, strict=True):
                    token.lemma_ = lemma
                lemmas_set = True
            for _, start, end in fallback.matcher(tokens.doc):
                found.setdefault(fallback.rule_index, set()).add((start, end))
