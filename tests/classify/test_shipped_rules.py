"""The shipped rule set: its size, its own test cases, the hard contrasts of
docs/concepts.md#intents, and
exact agreement of the compiled matcher with spaCy's Matcher on real messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.classify.fakes import shipped_rules
from tidal.engine.classify.intent_rules import IntentRules
from tidal.engine.classify.normalize import normalize
from tidal.engine.classify.pipeline import Classifier
from tidal.engine.classify.rule_matcher import IntentRuleMatcher
from tidal.engine.classify.rule_tests import run_rule_tests
from tidal.engine.classify.spacy_spans import SpacySpanFinder
from tidal.engine.classify.tokens import shared_tokenizer
from tidal.engine.core.intents import DEFAULT_CATALOGUE, DIRECTIONS, Direction
from tidal.training.dataset import load_directory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rules() -> IntentRules:
    return shipped_rules()


@pytest.fixture(scope="module")
def classifier(rules: IntentRules) -> Classifier:
    return Classifier(rules)  # rules alone: every rule-free message falls back to other


def test_at_least_200_patterns_ship_for_every_intent_of_both_directions(
    rules: IntentRules,
) -> None:
    assert rules.pattern_count >= 200
    for direction in DIRECTIONS:
        covered = {rule.intent for rule in rules.for_direction(direction)}
        assert covered >= DEFAULT_CATALOGUE.for_direction(direction) - {"other"}


def test_shipped_rule_test_cases_pass_with_the_rules_alone(classifier: Classifier) -> None:
    assert [str(f) for f in run_rule_tests(classifier)] == []


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("no", "deny"),
        ("No, that's all, thanks!", "deny"),
        ("I'm good, nothing else", "deny"),
        ("no it still doesn't work", "other"),
        ("thanks!", "gratitude"),
        ("ty 🙏", "gratitude"),
        ("thanks, but where's my parcel", "other"),
        ("thanks! one more thing: my card is blocked", "other"),
        ("ok", "acknowledgement"),
        ("👍", "acknowledgement"),
        ("STOP", "opt_out"),
        ("stop texting me", "opt_out"),
        ("how do I stop my subscription", "other"),
        ("someone used my card", "urgent"),
        ("I've waited 2 hours", "urgent"),
        ("in a meeting, will text you later", "away"),
        ("can I talk to a real person", "request_human"),
        ("bye", "goodbye"),
        ("yeah please", "affirm"),
        ("hello there", "greeting"),
    ],
)
def test_spec_contrasts_inbound(classifier: Classifier, text: str, intent: str) -> None:
    assert classifier.classify(text, "inbound").intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Hi, this is Dana from Acme, how can I help?", "greeting"),
        ("Is there anything else I can help you with?", "offer_more_help"),
        ("One moment while I check that for you.", "hold"),
        ("Thanks for contacting us, have a great day!", "closing"),
        ("Thanks for contacting us. Could you give me your order number?", "other"),
    ],
)
def test_spec_contrasts_outbound(classifier: Classifier, text: str, intent: str) -> None:
    assert classifier.classify(text, "outbound").intent == intent


def _texts() -> list[tuple[str, Direction]]:
    found: list[tuple[str, Direction]] = []
    for folder in ("training/data", "training/eval"):
        for example in load_directory(ROOT / folder):
            found.append((example.text, example.direction))
    return found


def test_compiled_matcher_agrees_with_spacy_on_training_and_eval_texts(
    rules: IntentRules,
) -> None:
    tokenizer = shared_tokenizer()
    fast = IntentRuleMatcher(rules, tokenizer)
    slow = IntentRuleMatcher(rules, tokenizer, SpacySpanFinder)
    texts = _texts()
    assert len(texts) > 500
    disagreements = []
    for text, direction in texts:
        tokens = tokenizer(normalize(text))
        spans = fast.finder(direction).spans(tokens)
        if spans != slow.finder(direction).spans(tokens):
            disagreements.append(text)
        if fast.match(tokens, direction) != slow.match(tokens, direction):
            disagreements.append(text)
    assert disagreements == []


def test_rules_are_precise_on_the_labelled_training_and_eval_messages(
    rules: IntentRules,
) -> None:
    tokenizer = shared_tokenizer()
    matcher = IntentRuleMatcher(rules, tokenizer)
    root = Path(__file__).resolve().parents[2]
    matched = wrong = 0
    for folder in ("training/data", "training/eval"):
        for example in load_directory(root / folder):
            rule = matcher.match(tokenizer(normalize(example.text)), example.direction)
            if rule is not None:
                matched += 1
                wrong += rule.intent != example.intent
    # A rule wins with confidence 1.0: it must almost never contradict a human label.
    assert matched > 1000
    assert wrong / matched < 0.005
