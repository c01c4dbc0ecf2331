"""A message as the intent rules see it: spaCy tokens with lower-case forms and lemmas.

Only spaCy's tokenizer runs (a few microseconds); lemmas come straight from the lookup
table of `spacy-lookups-data`, looked up by the lower-case form so that "Thanks" and
"thanks" share the lemma "thank" (the same features the model is trained on, see
`tidal.engine.classify.features`). A full `nlp(text)` call would cost ten times more and add
nothing the rules use.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from spacy.tokens import Doc

from tidal.engine.classify.nlp import english

#: Words that carry no intent of their own: a `whole`-scope rule may leave them
#: uncovered ("oh ok", "um thanks"). Rule files can add more (`filler:`).
DEFAULT_FILLER: frozenset[str] = frozenset(
    {
        "oh",
        "ah",
        "ahh",
        "aw",
        "um",
        "umm",
        "uh",
        "uhh",
        "er",
        "erm",
        "hmm",
        "hm",
        "mm",
        "lol",
        "haha",
        "hahaha",
        "hehe",
        "xx",
        "xxx",
        "x",
        "well",
        "just",
        "so",
        "again",
        "then",
        "and",
        "also",
        "really",
        "very",
        "too",
    }
)

# Characters that make a token emoji or decoration rather than words: symbols, the
# zero-width joiner, variation selectors and skin-tone modifiers.
_DECORATION_CATEGORIES = frozenset({"So", "Sk", "Sm", "Cf", "Mn", "Me"})


@lru_cache(maxsize=65536)
def is_decoration(text: str) -> bool:
    """True for punctuation, emoji and symbols: tokens a `whole` rule may leave out."""
    return all(
        unicodedata.category(ch) in _DECORATION_CATEGORIES or unicodedata.category(ch)[0] == "P"
        for ch in text
    )


@dataclass(frozen=True, slots=True)
class TokenizedText:
    """One normalized message: its spaCy Doc and the attributes rules match on."""

    text: str
    doc: Doc
    orths: tuple[str, ...]
    lowers: tuple[str, ...]
    lemmas: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.lowers)

    def char_span(self, index: int) -> tuple[int, int]:
        """The [start, end) character offsets of token `index` in `text`."""
        token = self.doc[index]
        return token.idx, token.idx + len(token.text)


class Tokenizer:
    """Turns normalized text into `TokenizedText`; one per process is plenty."""

    def __init__(self) -> None:
        nlp = english()
        self.vocab = nlp.vocab
        self._tokenizer: Callable[[str], Doc] = nlp.tokenizer
        self._table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")  # type: ignore[attr-defined]
        self._lemmas: dict[str, str] = {}

    def lemma(self, lower: str) -> str:
        """The lookup lemma of a lower-case word (the word itself when unknown)."""
        lemma = self._lemmas.get(lower)
        if lemma is None:
            found = self._table.get(lower, lower)
            lemma = found if isinstance(found, str) else lower
            # The table hashes through spaCy's string store on every get; a plain dict
            # in front makes repeated words nearly free. Bounded for long-running services.
            if len(self._lemmas) < 200_000:
                self._lemmas[lower] = lemma
        return lemma

    def __call__(self, text: str) -> TokenizedText:
        return self._wrap(text, self._tokenizer(text))

    def _wrap(self, text: str, doc: Doc) -> TokenizedText:
        # One pass over the Doc (each token access builds a Python object); spaCy's
        # LOWER is exactly `str.lower()` of the token text.
        orths = tuple([t.text for t in doc])
        lowers = tuple([o.lower() for o in orths])
        lemmas = self._lemmas
        return TokenizedText(
            text,
            doc,
            orths,
            lowers,
            tuple([lemmas.get(w) or self.lemma(w) for w in lowers]),
        )

    def words(self, text: str) -> list[str]:
        """The token texts of a phrase, as the tokenizer splits it."""
        return [t.text for t in self._tokenizer(text)]


@lru_cache(maxsize=1)
def shared_tokenizer() -> Tokenizer:
    """The process-wide tokenizer (building spaCy's English costs a few hundred ms)."""
    return Tokenizer()
