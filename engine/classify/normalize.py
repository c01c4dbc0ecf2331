"""Text normalisation before tokenising (SPEC 4.1): Unicode NFKC and whitespace.

Emoji survive as they are: spaCy's English tokenizer splits them into tokens of their
own, and they carry meaning here ("👍" acknowledges, "🙏" thanks).
"""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")
# Curly quotes and apostrophes are common on phones; the rules and the lemmatizer
# expect the ASCII forms ("don’t" -> "don't").
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def normalize(text: str) -> str:
    """NFKC, straight quotes, single spaces, no leading or trailing whitespace."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _WHITESPACE.sub(" ", text).strip()
