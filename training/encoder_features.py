"""The sentence-encoder feature block of the training pipeline (a scikit-learn transformer).

Reads the raw messages (the encoder wants sentences as people wrote them, not lemmas),
normalises them as the service does (`tidal.engine.classify.normalize`) and gives each its
sentence embedding (`tidal.engine.classify.encoder`, 384 unit-length columns). The fitted
block records the encoder's sha256, which the exported model keeps: a model is refused
with another encoder than the one it learnt from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from tidal.engine.classify.encoder import shared_encoder
from tidal.engine.classify.normalize import normalize


class EncoderFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Raw texts -> their sentence embeddings (dense)."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers

    def fit(self, texts: Iterable[str], y: Any = None) -> EncoderFeatures:
        """Nothing to learn; records which encoder the columns come from."""
        encoder = shared_encoder()
        self.encoder_sha256_ = encoder.sha256
        self.dimensions_ = encoder.dimensions
        return self

    def transform(self, texts: Iterable[str]) -> NDArray[np.float32]:
        check_is_fitted(self, "encoder_sha256_")
        normalised = [normalize(text) for text in texts]
        embeddings: NDArray[np.float32] = shared_encoder().embed(normalised, workers=self.workers)
        return embeddings
