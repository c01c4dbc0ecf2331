"""What the classifier reads of a message is bounded, whatever the text, and texts within
the bounds are read exactly as written."""

from __future__ import annotations

import unicodedata

import pytest

from engine.classify.bounds import MAX_CLASSIFIED_CHARS, MAX_RUN_CHARS, bounded
from engine.classify.loading import load_classifier
from engine.classify.normalize import normalize
from engine.classify.pipeline import Classifier
from engine.classify.tokens import shared_tokenizer
from tests.service.conftest import MODELS_DIR, RULES_DIR

#: the kinds of text that cost the tokenizer more than linear time, unbounded
HOSTILE_UNITS = {
    "punctuation": "!?",
    "quotes": "'\"",
    "curly quotes": "\u201c\u2019\u201d\u2018",
    "brackets": "([{<",
    "emoji": "\U0001f600",
    "emoji zwj": "\U0001f469\u200d\U0001f4bb",
    "combining marks": "a\u0301\u0302\u0303",
    "rtl with marks": "\u202e\u05e9\u05dc\u05d5\u05dd\u200f",
    "url": "https://example.com/a/b?c=d&e=f#",
    "mixed scripts": "a\u0416\u4e2d\u3042!",
    "nfkc expanding": "\ufdfa",
    "one-char tokens": "' ",
}


#: the most characters other than spaces the tokenizer may see: the bound and the "..."
#: standing for what was left out
MOST_READ = MAX_CLASSIFIED_CHARS + 3


def _of_bytes(unit: str, size: int) -> str:
    return unit * (size // len(unit.encode()))


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return load_classifier(RULES_DIR, MODELS_DIR)


def test_texts_within_bounds_are_read_as_written() -> None:
    for text in ["thanks!", "No, that's all, thanks! 👍", "مرحبا شكرا", "x" * MAX_RUN_CHARS]:
        assert bounded(text) == text


@pytest.mark.parametrize("kind", sorted(HOSTILE_UNITS))
def test_any_text_up_to_64_kib_is_read_as_a_bounded_number_of_short_chunks(kind: str) -> None:
    text = _of_bytes(HOSTILE_UNITS[kind], 64 * 1024)
    read = normalize(bounded(text))
    tokens = shared_tokenizer()(read)
    # bounded work: the text and every space-free chunk the tokenizer sees are short
    assert len(read.replace(" ", "")) <= MOST_READ
    assert max(len(chunk) for chunk in read.split()) <= MAX_RUN_CHARS
    assert len(tokens) <= MOST_READ


def test_a_long_message_is_read_by_its_opening_and_its_close(classifier: Classifier) -> None:
    middle = "I went to the branch and they told me to call you about it. " * 200
    agent = classifier.classify(
        "Hello, thanks for waiting. " + middle + "Is there anything else I can help you with?",
        "outbound",
    )
    assert agent.intent == "offer_more_help"
    read = bounded("opening words " + middle + " closing words")
    assert read.startswith("opening words") and read.endswith("closing words")
    assert " ... " in read


def test_combining_marks_and_joined_emoji_stay_with_their_base_character() -> None:
    units = ("e\u0301\u0302", "\U0001f469\u200d\U0001f4bb", "\U0001f44d\U0001f3fd", "!\u0301")
    for unit in units:
        for chunk in bounded(unit * 100).split():
            assert not unicodedata.category(chunk[0]).startswith("M")
            assert chunk[0] not in "\u200d\U0001f3fd"
            assert not chunk.endswith("\u200d")


def test_long_runs_of_symbols_are_split_as_the_tokenizer_splits_them() -> None:
    text = "wow!!!!!!!!!!!! thanks :-) " + "\U0001f44d" * 12
    tokens = shared_tokenizer()(normalize(bounded(text))).orths
    unbounded = shared_tokenizer()(normalize(text)).orths
    assert tokens == unbounded


def test_what_nfkc_lengthens_is_bounded_after_it() -> None:
    text = "\ufdfa" * 1000  # within the character bound, 18 times longer after NFKC
    assert len(unicodedata.normalize("NFKC", text)) > 10 * MAX_CLASSIFIED_CHARS
    assert len(normalize(bounded(text)).replace(" ", "")) <= MOST_READ


def test_the_full_text_is_not_needed_to_classify_a_message_the_same_way_twice(
    classifier: Classifier,
) -> None:
    text = _of_bytes("!?", 64 * 1024)
    assert classifier.classify(text, "inbound") == classifier.classify(text, "inbound")
    assert classifier.classify_batch([text], "inbound") == [classifier.classify(text, "inbound")]
