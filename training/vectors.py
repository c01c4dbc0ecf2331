"""The word-vector feature block of the training pipeline (a scikit-learn transformer).

Reads the lemma text the normaliser produced, like the TF-IDF blocks beside it, and
gives each message its mean token vector (`tidal.engine.classify.vectors`), projected on the
first principal components of the training messages and scaled so an average row has
norm `weight`. The projection is what keeps training fast: LinearSVC's cost grows
with the non-zeros of each row, and 64 dense columns cost far less than 256; the scale
sets how much the vectors weigh against the unit-norm TF-IDF blocks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_is_fitted

from tidal.engine.classify.vectors import shared_vectors


class VectorFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Lemma texts -> `components` dense columns from static word vectors."""

    def __init__(self, components: int = 64, weight: float = 1.0) -> None:
        self.components = components
        self.weight = weight

    def fit(self, texts: Iterable[str], y: Any = None) -> VectorFeatures:
        """Learn the projection and the scale from the training messages."""
        means = shared_vectors().mean_matrix(list(texts))
        kept = max(1, min(self.components, means.shape[0], means.shape[1]))
        self.pca_ = PCA(kept, random_state=0).fit(means)
        projected = self.pca_.transform(means)
        average_norm = float(np.linalg.norm(projected, axis=1).mean())
        self.scale_ = self.weight / average_norm if average_norm > 0.0 else 1.0
        self.vectors_sha256_ = shared_vectors().sha256
        return self

    def transform(self, texts: Iterable[str]) -> NDArray[np.float64]:
        """The scaled projection of each message's mean token vector."""
        check_is_fitted(self, "pca_")
        projected: NDArray[np.float64] = self.pca_.transform(
            shared_vectors().mean_matrix(list(texts))
        )
        return projected * self.scale_
