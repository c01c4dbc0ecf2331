"""How much of a message the classifier reads: a bounded amount, whatever the text.

The service stores every message whole (up to the request size limit), but classifying
used to cost time that grew faster than the text: spaCy's tokenizer strips prefixes and
suffixes off a space-free chunk one at a time, and each step searches the whole rest of
the chunk again (its suffix patterns are anchored at the end, which Python's `re` finds
by scanning from the start). A chunk of n characters without a space therefore costs
O(n^2): `"!?" * 8192` took 22 s, 4,096 emoji 1.6 s, and the tokenizer holds the GIL
throughout, so the whole service froze meanwhile. Any character the affix patterns strip
(punctuation, quotes, brackets, emoji, symbols) does it, in any script.

So, before normalizing and tokenizing (`Classifier.classify` calls `bounded` first):

- the classifier reads at most `MAX_CLASSIFIED_CHARS` characters: the first and the
  last half of a longer message, joined by "...". Agent messages are judged by their
  last sentence and customer messages by all they say; a long message's opening and
  closing are where both live (a greeting, a question, "thanks, bye").
- a run of more than `MAX_RUN_CHARS` characters without a space is cut into pieces of
  at most that length. No word is that long; the runs that are (URLs, keyboard mashing,
  emoji or punctuation runs) carry no intent that the cut loses.
- a run of more than `MAX_SYMBOL_RUN` characters that are neither letters, digits nor
  spaces (punctuation, quotes, emoji, symbols) is spaced out, one character (with its
  combining marks and joiners) per token, as the tokenizer would split it anyway, but
  without stripping them off one at a time: a quote or bracket costs the tokenizer's
  affix patterns tens of microseconds per strip even in a short chunk.

Both steps are linear in the text's length, and what follows them runs on a text of
bounded size and bounded chunks, so classifying any message costs at most a constant.
Texts within both bounds (nearly every real message) are classified exactly as before.
"""

from __future__ import annotations

import re
import unicodedata

#: characters of a message the classifier reads at most (its first and last halves)
MAX_CLASSIFIED_CHARS = 1024
#: longest run of characters without whitespace handed to the tokenizer
MAX_RUN_CHARS = 32
#: longest run of punctuation, symbols or emoji left for the tokenizer to split (longer
#: than any emoticon its exceptions know, such as ":-)" or "^_^")
MAX_SYMBOL_RUN = 8
#: what stands for the part of a long message left out
_GAP = " ... "
#: a space-free run longer than MAX_RUN_CHARS
_LONG_RUN = re.compile(rf"\S{{{MAX_RUN_CHARS + 1},}}")
#: a run of characters that are neither word characters nor whitespace
_SYMBOL_RUN = re.compile(rf"[^\w\s]{{{MAX_SYMBOL_RUN + 1},}}")
#: how far a cut moves to keep a base character with its combining marks and joiners
_CLUSTER_SLACK = 8


def bounded(text: str) -> str:
    """The part of `text` the classifier reads (`text` itself when within bounds)."""
    text = _head_and_tail(text)
    if not text.isascii():
        # NFKC (which normalizing applies next) may lengthen text, one character into as
        # many as 18: bound what it gives
        text = _head_and_tail(unicodedata.normalize("NFKC", text))
    if len(text) <= MAX_SYMBOL_RUN:
        return text
    if _SYMBOL_RUN.search(text) is not None:
        text = _SYMBOL_RUN.sub(_space_out, text)
    if len(text) <= MAX_RUN_CHARS or _LONG_RUN.search(text) is None:
        return text
    return _LONG_RUN.sub(_cut_run, text)


def _head_and_tail(text: str) -> str:
    if len(text) <= MAX_CLASSIFIED_CHARS:
        return text
    half = (MAX_CLASSIFIED_CHARS - len(_GAP)) // 2
    head_end = _cluster_start(text, half)
    tail_start = _cluster_start(text, len(text) - half)
    return text[:head_end] + _GAP + text[tail_start:]


def _cut_run(match: re.Match[str]) -> str:
    run = match.group(0)
    pieces = []
    start = 0
    while len(run) - start > MAX_RUN_CHARS:
        end = _cluster_start(run, start + MAX_RUN_CHARS)
        if end <= start:  # one cluster longer than a piece: cut it anyway
            end = start + MAX_RUN_CHARS
        pieces.append(run[start:end])
        start = end
    pieces.append(run[start:])
    return " ".join(pieces)


def _space_out(match: re.Match[str]) -> str:
    """One character (with what joins it) per token."""
    run = match.group(0)
    pieces: list[str] = []
    for char in run:
        if pieces and (_joins_previous(char) or pieces[-1].endswith("\u200d")):
            pieces[-1] += char
        else:
            pieces.append(char)
    return " ".join(pieces)


def _cluster_start(text: str, index: int) -> int:
    """`index`, moved back (a little) so that it does not split a character from the
    combining marks, joiners or variation selectors that follow it."""
    for back in range(_CLUSTER_SLACK):
        at = index - back
        if at <= 0:
            return index
        if not _joins_previous(text[at]) and text[at - 1] != "\u200d":
            return at
    return index


#: characters that belong to the one before them when displayed: the zero-width joiner
#: and the variation selectors (combining marks are found by their category)
_JOINERS = frozenset("\u200d\ufe0e\ufe0f")


def _joins_previous(char: str) -> bool:
    """True for a character displayed as part of the one before it."""
    return (
        char in _JOINERS
        or unicodedata.category(char) in ("Mn", "Mc", "Me")
        or "\U0001f3fb" <= char <= "\U0001f3ff"  # skin-tone modifiers
    )
