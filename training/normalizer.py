"""The spaCy normalising step of the training pipeline, as a scikit-learn transformer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from tidal.engine.classify.features import FEATURE_VERSION, lemma_text


class SpacyNormalizer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Raw messages -> lower-cased lookup lemmas joined by spaces.

    NFKC and whitespace normalisation, spaCy's English tokenizer and the lookup lemma
    table (`tidal.engine.classify.features.lemma_text`): the same function inference calls,
    so a trained model and the fast path read identical text.

    >>> SpacyNormalizer().fit_transform(["My cards WERE blocked!"])
    ['my card be block !']
    """

    def fit(self, texts: Iterable[str], y: Any = None) -> SpacyNormalizer:
        """Nothing to learn; records the feature version the output belongs to."""
        self.feature_version_ = FEATURE_VERSION
        return self

    def transform(self, texts: Iterable[str]) -> list[str]:
        """The lemma text of every message, in order."""
        check_is_fitted(self, "feature_version_")
        return [lemma_text(text) for text in texts]
