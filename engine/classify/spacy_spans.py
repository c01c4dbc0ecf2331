"""Span finding for intent rules with spaCy's own `Matcher` and `PhraseMatcher`.

The reference semantics of the rule patterns: slow (every pattern runs on every
message) but unmistakably spaCy's. `tidal rules test` and the tests compare the fast
`CompiledSpanFinder` against it.
"""

from __future__ import annotations

from collections.abc import Sequence

from spacy.matcher import Matcher, PhraseMatcher

from tidal.engine.classify.intent_rules import IntentRule
from tidal.engine.classify.tokens import TokenizedText, Tokenizer

Span = tuple[int, int]


class SpacySpanFinder:
    """Finds, per rule, every token span its patterns and phrases match, with spaCy."""

    def __init__(self, rules: Sequence[IntentRule], tokenizer: Tokenizer) -> None:
        self._matcher = Matcher(tokenizer.vocab, validate=True)
        self._phrases = PhraseMatcher(tokenizer.vocab, attr="LOWER")
        self._rule_index: dict[int, int] = {}
        for rule_index, rule in enumerate(rules):
            key = f"{rule_index}:{rule.id}"
            self._rule_index[tokenizer.vocab.strings.add(key)] = rule_index
            if rule.patterns:
                self._matcher.add(key, list(rule.patterns))
            if rule.phrases:
                self._phrases.add(key, [tokenizer(p).doc for p in rule.phrases])

    def spans(self, tokens: TokenizedText) -> dict[int, set[Span]]:
        """Rule index -> the (start, end) token spans its patterns and phrases match."""
        doc = tokens.doc
        for token, lemma in zip(doc, tokens.lemmas, strict=True):
            token.lemma_ = lemma
        found: dict[int, set[Span]] = {}
        for key, start, end in [*self._matcher(doc), *self._phrases(doc)]:
            found.setdefault(self._rule_index[key], set()).add((start, end))
        return found
