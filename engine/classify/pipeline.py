"""The classification pipeline (SPEC 4.1): normalize → tokenize → rules → model → fallback.

What it reads of a message is bounded first (`engine.classify.bounds`).

A rule match wins with confidence 1.0. Otherwise the direction's model answers if its
top intent reaches that intent's threshold; below it, or without a model, the message
is `other` (source `fallback`), carrying the model's view as alternatives so a reader
can see what it almost was. A model with an encoder stage (a cascade) hands the messages
its fast model is unsure of, or would give a costly intent, to the sentence encoder;
an answer that stage gives has source `encoder`.

The pipeline is pure computation over already-loaded rules and models; reading them
from disk is `engine.classify.loading`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from engine.classify.bounds import bounded
from engine.classify.intent_rules import IntentRules
from engine.classify.normalize import normalize
from engine.classify.ports import CascadeIntentScorer, IntentScorer, LemmaIntentScorer
from engine.classify.rule_matcher import IntentRuleMatcher
from engine.classify.tokens import TokenizedText, Tokenizer, shared_tokenizer
from engine.core.intents import FALLBACK_INTENT, Alternative, Classification, Direction

#: Threshold for an intent the model's metadata does not list.
DEFAULT_THRESHOLD = 0.5
#: How many runner-up intents a classification reports.
ALTERNATIVES = 3


class Classifier:
    """Classifies messages of either direction with the rules, then the models."""

    def __init__(
        self,
        rules: IntentRules,
        scorers: Mapping[Direction, IntentScorer] | None = None,
        *,
        tokenizer: Tokenizer | None = None,
        matcher: IntentRuleMatcher | None = None,
    ) -> None:
        self.tokenizer = tokenizer or shared_tokenizer()
        self.rules = rules
        self.matcher = matcher or IntentRuleMatcher(rules, self.tokenizer)
        self.scorers: dict[Direction, IntentScorer] = dict(scorers or {})
        # Decided once: a runtime Protocol check costs microseconds per call.
        self._from_lemmas: dict[Direction, Callable[[str], list[tuple[str, float]]]] = {
            direction: scorer.predict_proba_lemmas
            for direction, scorer in self.scorers.items()
            if isinstance(scorer, LemmaIntentScorer)
        }
        self._cascades: dict[
            Direction, Callable[[str, str], tuple[list[tuple[str, float]], bool]]
        ] = {
            direction: scorer.predict_proba_cascade
            for direction, scorer in self.scorers.items()
            if isinstance(scorer, CascadeIntentScorer)
        }
        for direction, scorer in self.scorers.items():
            if scorer.direction != direction:
                raise ValueError(
                    f"the {direction} model {scorer.version!r} was trained on "
                    f"{scorer.direction} messages"
                )

    def classify(self, text: str, direction: Direction) -> Classification:
        """The intent of one message (the text as the customer or agent wrote it)."""
        return self.classify_tokens(self.tokenizer(normalize(bounded(text))), direction)

    def classify_batch(self, texts: Sequence[str], direction: Direction) -> list[Classification]:
        """`classify` for many messages of one direction."""
        tokenize = self.tokenizer
        return [self.classify_tokens(tokenize(normalize(bounded(t))), direction) for t in texts]

    def classify_tokens(self, tokens: TokenizedText, direction: Direction) -> Classification:
        """Rules, then model, then fallback, for an already tokenized message."""
        rule = self.matcher.match(tokens, direction)
        if rule is not None:
            return Classification(rule.intent, 1.0, "rule", rule_id=rule.id)
        scorer = self.scorers.get(direction)
        if scorer is None or not tokens.text:
            return Classification(FALLBACK_INTENT, 0.0, "fallback")
        cascade = self._cascades.get(direction)
        if cascade is not None:
            ranked, encoded = cascade(" ".join(tokens.lemmas), tokens.text)
            return _from_model(scorer, ranked, "encoder" if encoded else "model")
        if direction in self._from_lemmas:
            return _from_model(scorer, self._from_lemmas[direction](" ".join(tokens.lemmas)))
        return _from_model(scorer, scorer.predict_proba(tokens.text))


def _from_model(
    scorer: IntentScorer,
    ranked: list[tuple[str, float]],
    source: Literal["model", "encoder"] = "model",
) -> Classification:
    if not ranked:
        return Classification(FALLBACK_INTENT, 0.0, "fallback", model_version=scorer.version)
    top_intent, top_probability = ranked[0]
    if top_probability >= scorer.thresholds.get(top_intent, DEFAULT_THRESHOLD):
        alternatives = _alternatives(ranked[1:])
        return Classification(
            top_intent,
            round(top_probability, 4),
            source,
            model_version=scorer.version,
            alternatives=alternatives,
        )
    # Not sure enough: the message is substantive by default. Its confidence is what
    # the model gives `other` itself; the near misses are the alternatives.
    other_probability = next((p for i, p in ranked if i == FALLBACK_INTENT), 0.0)
    alternatives = _alternatives([(i, p) for i, p in ranked if i != FALLBACK_INTENT])
    return Classification(
        FALLBACK_INTENT,
        round(other_probability, 4),
        "fallback",
        model_version=scorer.version,
        alternatives=alternatives,
    )


def _alternatives(ranked: list[tuple[str, float]]) -> tuple[Alternative, ...]:
    """The runners-up worth showing: the first few, without the ones rounded to zero."""
    shown = ((intent, round(p, 4)) for intent, p in ranked[:ALTERNATIVES])
    return tuple(Alternative(intent, p) for intent, p in shown if p > 0.0)
