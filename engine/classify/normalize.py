"""Text normalisation before tokenising (docs/concepts.md#classification): Unicode NFKC and
whitespace.

Emoji survive as they are: spaCy's English tokenizer splits them into tokens of their
own, and they carry meaning here ("👍" acknowledges, "🙏" thanks).
"""

from __future__ import annotations

import unicodedata

# Curly quotes and apostrophes are common on phones; the rules and the lemmatizer
# expect the ASCII forms ("don’t" -> "don't").
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def normalize(text: str) -> str:
    """NFKC, straight quotes, single spaces, no leading or trailing whitespace."""
    if not text.isascii():
        # ASCII is already NFKC and has no curly quotes: most messages skip this.
        text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    # str.split() splits on exactly the Unicode whitespace that `\s` matches, and is
    # several times faster than a regex substitution.
    return " ".join(text.split())
