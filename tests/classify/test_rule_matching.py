"""What intent rules match: scopes, filler, companions, precedence, fallbacks, regexes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.classify.fakes import rules_from_yaml
from tidal.engine.classify.normalize import normalize
from tidal.engine.classify.rule_matcher import IntentRuleMatcher
from tidal.engine.classify.spacy_spans import SpacySpanFinder
from tidal.engine.classify.tokens import shared_tokenizer
from tidal.engine.core.intents import Direction

RULES = """
rules:
  - id: fraud
    direction: inbound
    intent: urgent
    scope: anywhere
    patterns:
      - [{LOWER: fraud}]
    regex: ['\\bwaited \\d+ hours?\\b']
  - id: deny-no
    direction: inbound
    intent: deny
    scope: whole
    allow: [gratitude]
    patterns:
      - [{LOWER: {IN: ["no", nope]}}]
  - id: thanks
    direction: inbound
    intent: gratitude
    scope: whole
    patterns:
      - [{LEMMA: thank}, {LOWER: you, OP: "?"}]
    phrases: [much appreciated]
  - id: hello-name
    direction: outbound
    intent: greeting
    scope: whole
    patterns:
      - [{LOWER: hi}, {IS_TITLE: true, OP: "+"}]
"""


@pytest.fixture
def matcher(tmp_path: Path) -> IntentRuleMatcher:
    return IntentRuleMatcher(rules_from_yaml(tmp_path, mine=RULES), shared_tokenizer())


def _rule(matcher: IntentRuleMatcher, text: str, direction: Direction = "inbound") -> str | None:
    rule = matcher.match(shared_tokenizer()(normalize(text)), direction)
    return rule.id if rule else None


@pytest.mark.parametrize(
    "text",
    ["Thanks!", "thank you 🙏", "um, thanks", "THANKS!!! :)", "thanks thanks", "much appreciated."],
)
def test_whole_rule_matches_when_matches_filler_and_punctuation_cover_the_message(
    matcher: IntentRuleMatcher, text: str
) -> None:
    assert _rule(matcher, text) == "thanks"


@pytest.mark.parametrize(
    "text",
    [
        "thanks, but where's my parcel",
        "thanks for nothing",
        "Thanks! Also, my card is blocked",
        "appreciated",
    ],
)
def test_whole_rule_does_not_match_when_a_substantive_word_is_left(
    matcher: IntentRuleMatcher, text: str
) -> None:
    assert _rule(matcher, text) is None


def test_anywhere_rule_matches_inside_a_longer_message(matcher: IntentRuleMatcher) -> None:
    assert _rule(matcher, "I think there was fraud on my account yesterday") == "fraud"


def test_regex_matches_anywhere_case_insensitively(matcher: IntentRuleMatcher) -> None:
    assert _rule(matcher, "I WAITED 3 HOURS for this") == "fraud"
    assert _rule(matcher, "I waited for the bus") is None


def test_allowed_companion_intent_may_cover_the_rest_of_a_whole_message(
    matcher: IntentRuleMatcher,
) -> None:
    assert _rule(matcher, "no thanks") == "deny-no"
    assert _rule(matcher, "nope, thank you!") == "deny-no"


def test_companions_alone_do_not_make_the_rule_match(matcher: IntentRuleMatcher) -> None:
    assert _rule(matcher, "thank you") == "thanks"


def test_no_followed_by_a_complaint_is_not_a_denial(matcher: IntentRuleMatcher) -> None:
    assert _rule(matcher, "no it still doesn't work") is None


def test_first_rule_in_file_order_wins(matcher: IntentRuleMatcher) -> None:
    assert _rule(matcher, "no, fraud") == "fraud"


def test_rules_apply_only_to_their_direction(matcher: IntentRuleMatcher) -> None:
    assert _rule(matcher, "thanks", "outbound") is None
    assert _rule(matcher, "Hi Sarah", "inbound") is None


def test_patterns_beyond_plain_sequences_fall_back_to_spacy_matcher(
    matcher: IntentRuleMatcher,
) -> None:
    assert matcher.finder("outbound").fallback_count == 1  # type: ignore[attr-defined]
    assert _rule(matcher, "Hi Sarah Jane!", "outbound") == "hello-name"
    assert _rule(matcher, "hi sarah", "outbound") is None


def test_empty_message_matches_nothing(matcher: IntentRuleMatcher) -> None:
    assert _rule(matcher, "   ") is None


def test_compiled_spans_equal_spacy_matcher_spans(tmp_path: Path) -> None:
    rules = rules_from_yaml(tmp_path, mine=RULES)
    tokenizer = shared_tokenizer()
    fast = IntentRuleMatcher(rules, tokenizer)
    slow = IntentRuleMatcher(rules, tokenizer, SpacySpanFinder)
    for text in ["thank you thanks", "Hi Ann Lee", "fraud fraud no", "nope thank you"]:
        for direction in ("inbound", "outbound"):
            tokens = tokenizer(text)
            assert fast.finder(direction).spans(tokens) == slow.finder(direction).spans(tokens)


def test_anywhere_regex_counts_a_match_inside_a_word(tmp_path: Path) -> None:
    rules = rules_from_yaml(
        tmp_path,
        mine="rules:\n"
        "  - {id: scam, direction: inbound, intent: urgent, scope: anywhere, regex: [scam]}\n"
        "  - {id: thx, direction: inbound, intent: gratitude, scope: whole, regex: [thank]}\n",
    )
    matcher = IntentRuleMatcher(rules, shared_tokenizer())
    assert _rule(matcher, "these scammers took my money") == "scam"
    assert _rule(matcher, "thanksgiving") is None


def test_boolean_flags_compile_to_the_fast_path_and_agree_with_spacy(tmp_path: Path) -> None:
    rules = rules_from_yaml(
        tmp_path,
        mine="rules:\n"
        "  - id: bye\n"
        "    direction: outbound\n"
        "    intent: closing\n"
        "    scope: whole\n"
        "    patterns:\n"
        "      - [{LOWER: thanks}, {IS_PUNCT: true, OP: '?'}, {LOWER: bye}]\n"
        "      - [{IS_TITLE: true}, {LIKE_NUM: true}, {IS_DIGIT: false}]\n",
    )
    tokenizer = shared_tokenizer()
    fast = IntentRuleMatcher(rules, tokenizer)
    slow = IntentRuleMatcher(rules, tokenizer, SpacySpanFinder)
    assert fast.finder("outbound").fallback_count == 0  # type: ignore[attr-defined]
    for text in ["thanks, bye", "thanks bye!", "thanks a bye", "Room 12 ten", "room 12 10"]:
        tokens = tokenizer(text)
        assert fast.finder("outbound").spans(tokens) == slow.finder("outbound").spans(tokens)
    assert _rule(fast, "Thanks, bye!", "outbound") == "bye"


LAST_SENTENCE_RULES = """
rules:
  - id: offer
    direction: outbound
    intent: offer_more_help
    scope: last_sentence
    phrases: [anything else]
  - id: sign-off
    direction: outbound
    intent: closing
    scope: last_sentence
    allow: [closing]
    patterns:
      - [{LOWER: {IN: [bye, goodbye]}}]
    phrases: [have a great day, take care]
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anything else?", "offer"),
        ("Your table is booked for 7 pm. Anything else?", "offer"),
        ("Your refund is on its way. Have a great day!", "sign-off"),
        ("Done. Have a great day! Take care.", "sign-off"),
        ("Have a great day! Your tickets are attached.", None),
        ("Anything else? Your tickets are attached.", None),
        ("Anything else you tried?", None),
    ],
)
def test_last_sentence_rules_need_the_last_sentence_covered(
    tmp_path: Path, text: str, expected: str | None
) -> None:
    matcher = IntentRuleMatcher(
        rules_from_yaml(tmp_path, mine=LAST_SENTENCE_RULES), shared_tokenizer()
    )
    assert _rule(matcher, text, "outbound") == expected


def test_last_sentence_rules_agree_with_the_spacy_reference_finder(tmp_path: Path) -> None:
    rules = rules_from_yaml(tmp_path, mine=LAST_SENTENCE_RULES)
    fast = IntentRuleMatcher(rules, shared_tokenizer())
    slow = IntentRuleMatcher(rules, shared_tokenizer(), finder_factory=SpacySpanFinder)
    for text in (
        "Booked. Have a great day!",
        "Anything else? Booked.",
        "Take care. Anything else?",
    ):
        tokens = shared_tokenizer()(normalize(text))
        assert fast.match(tokens, "outbound") == slow.match(tokens, "outbound")
