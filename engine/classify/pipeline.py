"""The classification pipeline (docs/concepts.md#classification): normalize → tokenize → rules →
model → fallback.

What it reads of a message is bounded first (`tidal.engine.classify.bounds`).

A rule match wins with confidence 1.0. Otherwise the direction's model answers if its
top intent reaches that intent's threshold; below it, or without a model, the message
is `other` (source `fallback`), carrying the model's view as alternatives so a reader
can see what it almost was. A model with an encoder stage (a cascade) hands the messages
its fast model is unsure of, or would give a costly intent, to the sentence encoder;
an answer that stage gives has source `encoder`.

A customer's message is judged by everything it says: when no rule decides a message
of several sentences, each sentence is classified, and one that asks or tells something
makes the whole message `other` ("Great, thanks. Now list my reminders"), while
sentences that are all thanks, refusals, farewells or acknowledgements combine into
the one that matters most for the workflow ("That's all, thanks. You were helpful." is
a denial). An agent's message is judged by what it hands over, which the rules say
with `scope: last_sentence`; when the model is unsure of a whole agent message, its last
sentence alone decides if the model is sure that sentence offers more help or signs off.

The pipeline is pure computation over already-loaded rules and models; reading them
from disk is `tidal.engine.classify.loading`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from tidal.engine.classify.bounds import bounded
from tidal.engine.classify.intent_rules import IntentRules
from tidal.engine.classify.normalize import normalize
from tidal.engine.classify.ports import CascadeIntentScorer, IntentScorer, LemmaIntentScorer
from tidal.engine.classify.rule_matcher import IntentRuleMatcher
from tidal.engine.classify.sentences import last_sentence_start, sentence_spans
from tidal.engine.classify.tokens import TokenizedText, Tokenizer, is_decoration, shared_tokenizer
from tidal.engine.core.intents import (
    FALLBACK_INTENT,
    Alternative,
    Classification,
    ClassificationSource,
    Direction,
)

#: Threshold for an intent the model's metadata does not list.
DEFAULT_THRESHOLD = 0.5
#: How many runner-up intents a classification reports.
ALTERNATIVES = 3
#: Inbound intents that ask nothing of the agent, in the order a message made of several
#: of them takes one ("No, that's all. Thanks!" is a denial, "Thanks. Bye!" a goodbye).
INEFFECTUAL_PRECEDENCE: tuple[str, ...] = (
    "goodbye",
    "deny",
    "affirm",
    "gratitude",
    "acknowledgement",
    "greeting",
)
#: Inbound intents that each say "nothing more is needed". A message the model splits
#: between them ("That's all, thanks for all your help": deny 0.5, gratitude 0.45) says
#: so even when none reaches its own threshold: together they must reach the highest of
#: their thresholds, and the top one is taken.
NOTHING_MORE_INTENTS: frozenset[str] = frozenset({"goodbye", "deny", "gratitude"})
#: Outbound intents an agent's last sentence hands over whatever came before.
HANDOVER_INTENTS: frozenset[str] = frozenset({"offer_more_help", "closing"})
#: Messages with more sentences than this are judged whole (the cost stays bounded).
MAX_SENTENCES = 8
#: Intents that jump the queue (the workflow escalates them): the costliest mistakes.
ESCALATION_INTENTS: frozenset[str] = frozenset({"urgent", "request_human"})
#: The least probability at which the model alone may escalate, whatever threshold
#: training tuned (F1 tuning lets "I need a ticket to Denver please" through at 0.3).
#: Distress, fraud and an explicit ask for a person are the rules' job (inbound.yaml);
#: the model escalates only what it is sure of.
MODEL_ESCALATION_FLOOR = 0.6


class Classifier:
    """Classifies messages of either direction with the rules, then the models."""

    def __init__(
        self,
        rules: IntentRules,
        scorers: Mapping[Direction, IntentScorer] | None = None,
        *,
        tokenizer: Tokenizer | None = None,
        matcher: IntentRuleMatcher | None = None,
        escalation_floor: float = MODEL_ESCALATION_FLOOR,
    ) -> None:
        self.tokenizer = tokenizer or shared_tokenizer()
        self.escalation_floor = escalation_floor
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
        """Rules, then model, then fallback, for an already tokenized message; a
        customer's message of several sentences is judged by all of them."""
        whole = self._classify_one(tokens, direction)
        if direction == "outbound":
            return self._last_sentence_if_unsure(tokens, _no_closing_question(whole, tokens))
        if whole.source == "rule":
            return whole
        if whole.intent != FALLBACK_INTENT and whole.intent not in INEFFECTUAL_PRECEDENCE:
            return whole  # the model reads the whole message as urgent, away, ...: it stands
        spans = sentence_spans(tokens.lowers)
        if len(spans) < 2 or len(spans) > MAX_SENTENCES:
            return whole
        return self._combine_sentences(tokens, spans, whole)

    def _classify_one(self, tokens: TokenizedText, direction: Direction) -> Classification:
        rule = self.matcher.match(tokens, direction)
        if rule is not None:
            return Classification(rule.intent, 1.0, "rule", rule_id=rule.id)
        scorer = self.scorers.get(direction)
        if scorer is None or not tokens.text:
            return Classification(FALLBACK_INTENT, 0.0, "fallback")
        cascade = self._cascades.get(direction)
        if cascade is not None:
            ranked, encoded = cascade(" ".join(tokens.lemmas), tokens.text)
            return _from_model(
                scorer, ranked, "encoder" if encoded else "model", self.escalation_floor
            )
        if direction in self._from_lemmas:
            ranked = self._from_lemmas[direction](" ".join(tokens.lemmas))
        else:
            ranked = scorer.predict_proba(tokens.text)
        return _from_model(scorer, ranked, "model", self.escalation_floor)

    def _last_sentence_if_unsure(
        self, tokens: TokenizedText, whole: Classification
    ) -> Classification:
        """An agent's message the model is unsure of, judged by its last sentence, as the
        rules judge it: what the agent hands over ("Booked, reference 8X2K. Will you need
        anything else?") decides, when the model is sure of that sentence."""
        if whole.source != "fallback" or not whole.alternatives:
            return whole
        start = last_sentence_start(tokens.lowers)
        if start == 0:
            return whole
        first = tokens.char_span(start)[0]
        last = self._classify_one(self.tokenizer(tokens.text[first:]), "outbound")
        return last if last.intent in HANDOVER_INTENTS else whole

    def _combine_sentences(
        self, tokens: TokenizedText, spans: list[tuple[int, int]], whole: Classification
    ) -> Classification:
        """A substantive sentence makes the message `other`; sentences that are all
        ineffectual take the intent of highest precedence; anything else (the model's
        away or opt-out in one sentence) leaves the whole message's answer."""
        parts: list[Classification] = []
        for start, end in spans:
            first, last = tokens.char_span(start)[0], tokens.char_span(end - 1)[1]
            sentence = self.tokenizer(tokens.text[first:last])
            if all(is_decoration(orth) for orth in sentence.orths):
                continue
            part = _leaning(self._classify_one(sentence, "inbound"))
            # A sentence asks or tells something when it is `other` or when only the
            # model calls it an escalation (the rules already looked at the whole
            # message for distress, fraud and asks for a person).
            substantive = part.intent == FALLBACK_INTENT or (
                part.intent in ESCALATION_INTENTS and part.source in ("model", "encoder")
            )
            if substantive:
                return Classification(
                    FALLBACK_INTENT,
                    part.confidence if part.intent == FALLBACK_INTENT else 0.0,
                    part.source if part.intent == FALLBACK_INTENT else "fallback",
                    rule_id=part.rule_id,
                    model_version=part.model_version or whole.model_version,
                    # what the whole message looked like first, then its runners-up
                    alternatives=_without(
                        (Alternative(whole.intent, whole.confidence), *whole.alternatives),
                        FALLBACK_INTENT,
                    ),
                )
            parts.append(part)
        if len(parts) < 2 or any(p.intent not in INEFFECTUAL_PRECEDENCE for p in parts):
            return whole
        chosen = min(parts, key=lambda p: INEFFECTUAL_PRECEDENCE.index(p.intent))
        source: ClassificationSource = "rule" if all(p.source == "rule" for p in parts) else "model"
        return Classification(
            chosen.intent,
            min(p.confidence for p in parts),
            source,
            rule_id=chosen.rule_id,
            model_version=chosen.model_version or whole.model_version,
            alternatives=_without(
                tuple(Alternative(p.intent, p.confidence) for p in parts), chosen.intent
            ),
        )


def _from_model(
    scorer: IntentScorer,
    ranked: list[tuple[str, float]],
    source: Literal["model", "encoder"] = "model",
    escalation_floor: float = 0.0,
) -> Classification:
    if not ranked:
        return Classification(FALLBACK_INTENT, 0.0, "fallback", model_version=scorer.version)
    top_intent, top_probability = ranked[0]
    threshold = scorer.thresholds.get(top_intent, DEFAULT_THRESHOLD)
    if top_intent in ESCALATION_INTENTS:
        threshold = max(threshold, escalation_floor)
    if top_probability >= threshold:
        alternatives = _alternatives(ranked[1:])
        return Classification(
            top_intent,
            round(top_probability, 4),
            source,
            model_version=scorer.version,
            alternatives=alternatives,
        )
    if top_intent in NOTHING_MORE_INTENTS and _says_nothing_more(scorer, ranked):
        return Classification(
            top_intent,
            round(top_probability, 4),
            source,
            model_version=scorer.version,
            alternatives=_alternatives(ranked[1:]),
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


def _no_closing_question(whole: Classification, tokens: TokenizedText) -> Classification:
    """The model's `closing` for an agent message that ends in a question is no sign-off
    ("Ok great. Do you have a preference on time?"): a closing asks nothing (in SGD's and
    MultiWOZ's dialogues 7 of about 5,000 agent turns that end in "?" are farewells, all
    typos like "Have a nice day?"). The message falls back; rules still decide theirs."""
    if whole.intent != "closing" or whole.source not in ("model", "encoder"):
        return whole
    if not tokens.text.rstrip().endswith("?"):
        return whole
    other = next((a.confidence for a in whole.alternatives if a.intent == FALLBACK_INTENT), 0.0)
    return Classification(
        FALLBACK_INTENT,
        other,
        "fallback",
        model_version=whole.model_version,
        alternatives=_without(
            (Alternative(whole.intent, whole.confidence), *whole.alternatives), FALLBACK_INTENT
        ),
    )


def _says_nothing_more(scorer: IntentScorer, ranked: list[tuple[str, float]]) -> bool:
    """Whether the "nothing more" intents together reach the highest of their thresholds."""
    together = sum(p for intent, p in ranked if intent in NOTHING_MORE_INTENTS)
    needed = max(scorer.thresholds.get(i, DEFAULT_THRESHOLD) for i in NOTHING_MORE_INTENTS)
    return together >= needed


def _leaning(part: Classification) -> Classification:
    """A sentence the model is unsure of, read as what the model leans to when that is
    ineffectual ("That would be all." just under the deny threshold); otherwise it
    stays `other`, substantive by default ("Now list my reminders")."""
    if part.source != "fallback" or not part.alternatives:
        return part
    lean = part.alternatives[0]
    if lean.intent not in INEFFECTUAL_PRECEDENCE:
        return part
    return Classification(lean.intent, lean.confidence, "model", model_version=part.model_version)


def _without(alternatives: tuple[Alternative, ...], intent: str) -> tuple[Alternative, ...]:
    seen: set[str] = {intent}
    kept = []
    for alternative in alternatives:
        if alternative.intent not in seen:
            seen.add(alternative.intent)
            kept.append(alternative)
    return tuple(kept[:ALTERNATIVES])


def _alternatives(ranked: list[tuple[str, float]]) -> tuple[Alternative, ...]:
    """The runners-up worth showing: the first few, without the ones rounded to zero."""
    shown = ((intent, round(p, 4)) for intent, p in ranked[:ALTERNATIVES])
    return tuple(Alternative(intent, p) for intent, p in shown if p > 0.0)
