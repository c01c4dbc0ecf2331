"""Where a message's sentences start: cheap, on the tokens the rules already have.

Real messages are composite: an agent reports, then offers more help or signs off in
the last sentence ("Your table is booked for 7 pm. Anything else I can do?"); a
customer thanks, then asks ("Great, thanks. Now list my reminders"). A sentence ends
at a run of `.`, `!`, `?` or `…` tokens, or at a line break; punctuation inside a token
("$7.50", "e.g.") never splits, because spaCy's tokenizer keeps it in the token, except
a reference code that spaCy keeps with its period ("VCMKKO1K."). No
parser runs: this is one pass over a tuple of strings.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Tokens that end a sentence (spaCy splits them off words; "?!" and "..." stay one token).
TERMINATORS: frozenset[str] = frozenset(
    {".", "!", "?", "…", "...", "?!", "!?", "!!", "??", "!!!", "???", "....", "\n", "\n\n"}
)


def _ends_sentence(lower: str) -> bool:
    return (
        lower in TERMINATORS
        or (lower.isspace() and "\n" in lower)
        or (lower[-1:] == "." and _is_code_with_period(lower))
    )


def _is_code_with_period(lower: str) -> bool:
    """A reference code or number with the sentence's period attached: spaCy keeps
    "vcmkko1k." whole ("Your reference is VCMKKO1K. Anything else?"). Letters and
    digits only before the period, at least one digit, so "e.g.", "Dr." and "7.50"
    stay one sentence."""
    body = lower[:-1]
    return len(body) >= 2 and body.isalnum() and any(c.isdigit() for c in body)


def sentence_starts(lowers: Sequence[str]) -> list[int]:
    """The index of the first token of every sentence (always starting with 0)."""
    starts = [0]
    previous_ended = False
    for i, lower in enumerate(lowers):
        ends = _ends_sentence(lower)
        if previous_ended and not ends:
            starts.append(i)
        previous_ended = ends
    return starts


def last_sentence_start(lowers: Sequence[str], ignorable: Sequence[bool] | None = None) -> int:
    """The index of the first token of the last sentence that says something.

    Trailing punctuation and, when `ignorable` flags are given, trailing emoji or
    filler ("Have a great day! 😊") belong to the sentence before them.
    """
    end = len(lowers)
    while end > 0 and (
        _ends_sentence(lowers[end - 1]) or (ignorable is not None and ignorable[end - 1])
    ):
        end -= 1
    i = end - 1
    while i >= 0 and not _ends_sentence(lowers[i]):
        i -= 1
    return i + 1


def sentence_spans(lowers: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) token ranges of the sentences, terminators included."""
    starts = sentence_starts(lowers)
    ends = [*starts[1:], len(lowers)]
    return list(zip(starts, ends, strict=True))
