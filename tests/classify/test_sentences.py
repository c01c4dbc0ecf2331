"""Where sentences start, on spaCy tokens: cheap, and never inside a number or an emoji run."""

from __future__ import annotations

from tidal.engine.classify.sentences import last_sentence_start, sentence_spans
from tidal.engine.classify.tokens import shared_tokenizer


def _lowers(text: str) -> tuple[str, ...]:
    return shared_tokenizer()(text).lowers


def test_each_terminator_run_ends_a_sentence() -> None:
    lowers = _lowers("Your table is booked. Anything else?! Bye")
    assert [lowers[a:b] for a, b in sentence_spans(lowers)] == [
        ("your", "table", "is", "booked", "."),
        ("anything", "else", "?", "!"),
        ("bye",),
    ]


def test_a_price_or_an_abbreviation_does_not_split() -> None:
    assert len(sentence_spans(_lowers("It costs $7.50 at 7 p.m. today"))) == 1


def test_the_last_sentence_starts_after_the_last_terminator() -> None:
    lowers = _lowers("Your table is booked for 7 pm. Anything else I can do?")
    assert lowers[last_sentence_start(lowers) :] == ("anything", "else", "i", "can", "do", "?")


def test_trailing_punctuation_and_ignorable_tokens_belong_to_the_sentence_before() -> None:
    lowers = _lowers("Booked. Have a great day! 😊")
    ignorable = [token == "😊" for token in lowers]
    assert lowers[last_sentence_start(lowers, ignorable) :][:2] == ("have", "a")


def test_a_message_of_one_sentence_starts_at_zero() -> None:
    assert last_sentence_start(_lowers("thanks!")) == 0
    assert sentence_spans(_lowers("thanks")) == [(0, 1)]


def test_a_reference_code_with_its_period_attached_ends_a_sentence() -> None:
    lowers = _lowers("Your reference number is VCMKKO1K. Will there be anything else?")
    assert "vcmkko1k." in lowers  # spaCy keeps the period on the code
    assert lowers[last_sentence_start(lowers) :][:3] == ("will", "there", "be")
    assert len(sentence_spans(_lowers("Ask Dr. Smith, e.g. about 7.50"))) == 1
