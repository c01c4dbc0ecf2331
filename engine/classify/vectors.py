"""Static word vectors, an optional feature block of the intent model.

TF-IDF n-grams only know the words a training set happened to use; word vectors learnt
on a large corpus know that "misplaced" sits near "lost". Tidal reads the token table
the `wordllama` package ships (MIT; 32,000 Llama-tokenizer pieces x 256 dimensions,
safetensors, about 16 MB) with `safetensors` and `tokenizers` directly: a table look-up
per token, no neural network at run time. WordLlama's own loader is not used because it
looks for a missing file on the network.

A message's vector is the mean of its tokens' vectors, taken over its lemma text word
by word (each word tokenized alone, as the tokenizer splits it inside a sentence), so
training and the fast path share one tokenization. A mean is linear, so the fast path
folds the model's weights into the table once and then sums one small row per token.
Install with `pip install 'tidal[vectors]'`.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from functools import cache
from importlib import metadata as package_metadata
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

PACKAGE = "wordllama"
NAME = "wordllama-l2-supercat-256"
_TABLE = Path("weights") / "l2_supercat_256.safetensors"
_TOKENIZER = Path("tokenizers") / "l2_supercat_tokenizer_config.json"
_TABLE_KEY = "embedding.weight"


class VectorsUnavailable(Exception):
    """The word-vector package is not installed or its files are not where expected."""


def package_directory() -> Path:
    """Where the installed `wordllama` package lives (found without importing it)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise VectorsUnavailable(
            f"this model uses word vectors from the {PACKAGE!r} package, which is not "
            "installed: pip install 'tidal[vectors]'"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def package_version() -> str:
    return package_metadata.version(PACKAGE)


class StaticVectors:
    """Token vectors and the tokenizer that splits words into their tokens."""

    _CACHE_LIMIT = 200_000

    def __init__(
        self, table: NDArray[np.float32], encode_word: Callable[[str], list[int]], sha256: str
    ) -> None:
        self.table = table
        #: Digest of the table file: a model records it and refuses another table.
        self.sha256 = sha256
        self.dimensions = int(table.shape[1])
        self._encode_word = encode_word
        self._word_ids: dict[str, list[int]] = {}

    @classmethod
    def load(cls) -> StaticVectors:
        """Read the table and tokenizer from the installed package."""
        from safetensors.numpy import load
        from tokenizers import Tokenizer

        root = package_directory()
        table_path, tokenizer_path = root / _TABLE, root / _TOKENIZER
        for path in (table_path, tokenizer_path):
            if not path.is_file():
                raise VectorsUnavailable(f"{path}: word-vector file is missing")
        raw = table_path.read_bytes()
        table = load(raw)[_TABLE_KEY].astype(np.float32)
        tokenizer = Tokenizer.from_file(str(tokenizer_path))

        def encode_word(word: str) -> list[int]:
            return list(tokenizer.encode(word, add_special_tokens=False).ids)

        return cls(table, encode_word, hashlib.sha256(raw).hexdigest())

    def token_ids(self, text: str) -> list[int]:
        """The token ids of a lemma text, word by word (cached per word)."""
        ids: list[int] = []
        for word in text.split():
            found = self._word_ids.get(word)
            if found is None:
                found = self._encode_word(word)
                if len(self._word_ids) < self._CACHE_LIMIT:
                    self._word_ids[word] = found
            ids.extend(found)
        return ids

    def mean_vector(self, text: str) -> NDArray[np.float64]:
        """The mean token vector of a lemma text (zeros if it has no tokens)."""
        ids = self.token_ids(text)
        if not ids:
            return np.zeros(self.dimensions)
        mean: NDArray[np.float64] = self.table[ids].mean(axis=0, dtype=np.float64)
        return mean

    def mean_matrix(self, texts: list[str]) -> NDArray[np.float64]:
        """`mean_vector` of each lemma text, one row each."""
        rows = np.zeros((len(texts), self.dimensions))
        for row, text in enumerate(texts):
            rows[row] = self.mean_vector(text)
        return rows


@cache
def shared_vectors() -> StaticVectors:
    """One loaded table per process: every model that uses vectors shares it."""
    return StaticVectors.load()
