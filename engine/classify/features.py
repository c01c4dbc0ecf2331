"""Text features shared by training and inference, so both see identical n-grams.

A message becomes its lower-cased lookup lemmas ("My cards were blocked!" ->
"my card be block !"); the model reads word 1-2 grams and padded character 2-5 grams of
that lemma text. Training hands these functions to scikit-learn's vectorizers as
analyzers and inference calls them directly: one implementation, so the fast path
cannot drift from what was trained.

Only spaCy's tokenizer and the lemma lookup table are used: a full `nlp()` call costs
several times more and its other components add nothing here.

Changing anything that alters the features of some text must bump `FEATURE_VERSION`;
a model trained with another version is refused at load time.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from tidal.engine.classify.nlp import english
from tidal.engine.classify.normalize import normalize

FEATURE_VERSION = 1

_lemma_cache: dict[str, str] = {}
_tokenize: Callable[[str], list[str]] | None = None


def _build_tokenizer() -> Callable[[str], list[str]]:
    nlp = english()
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")  # type: ignore[attr-defined]
    tokenizer = nlp.tokenizer

    def lemma_of(lower: str) -> str:
        # The lookup table hashes its keys with spaCy's string store on every get;
        # a plain dict in front of it makes repeated words nearly free.
        lemma = _lemma_cache.get(lower)
        if lemma is None:
            found = table.get(lower, lower)
            lemma = found if isinstance(found, str) else lower
            if len(_lemma_cache) < 200_000:
                _lemma_cache[lower] = lemma
        return lemma

    def tokenize(text: str) -> list[str]:
        return [lemma_of(token.lower_) for token in tokenizer(text) if not token.is_space]

    return tokenize


def lemmas(text: str) -> list[str]:
    """The lower-cased lookup lemmas of a raw message, after `normalize`."""
    global _tokenize
    if _tokenize is None:
        _tokenize = _build_tokenizer()
    return _tokenize(normalize(text))


@lru_cache(maxsize=8192)
def lemma_text(text: str) -> str:
    """`lemmas(text)` joined by single spaces: what the analyzers below read.

    Cached: contact-center traffic repeats short messages ("ok", "thanks") a lot.
    """
    return " ".join(lemmas(text))


def word_ngrams(text: str, max_n: int = 2) -> list[str]:
    """Word 1..max_n grams of a lemma text (n-grams joined by one space)."""
    words = text.split()
    grams = list(words)
    for n in range(2, max_n + 1):
        grams.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return grams


def char_wb_ngrams(text: str, min_n: int = 2, max_n: int = 5) -> list[str]:
    """Character n-grams inside word boundaries, each word padded with one space.

    The same grams as scikit-learn's `analyzer="char_wb"`, so the two stay comparable.
    """
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        length = len(padded)
        for n in range(min_n, max_n + 1):
            if n > length:
                break
            grams.extend(padded[i : i + n] for i in range(length - n + 1))
            if n == length:
                break
    return grams
