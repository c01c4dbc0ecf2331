"""The encoder cascade: a fast n-gram model, and an encoder model where the fast one is unsure.

Both are `CalibratedLinearSVC`s fitted on the same messages: `fast_` on the TF-IDF
columns alone, `full_` on the TF-IDF columns plus the sentence encoder's (the last
`encoder_columns` columns of X). A message keeps the fast model's answer when its top
probability reaches `gate` and it gives no intent of `confirm` `confirm_floor` or more;
otherwise the full model answers. `confirm` names the intents whose mistakes cost most
(closing a conversation, jumping the queue, offering more help, after which "no thanks"
closes): the encoder checks every message the fast model gives one of them as its
answer, or as a runner-up it cannot rule out ("Would you like more assistance?" read as
`other` 0.93 and `offer_more_help` 0.07).

`predict_proba` computes exactly what the service computes (`engine.classify.model`), so
thresholds tuned on it and figures measured with it hold for the cascade as served.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from training.calibrated_svc import CalibratedLinearSVC


class EncoderCascade(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Fast model where it is sure, encoder-backed model elsewhere.

    >>> X = np.array([[0.0, 1, 0.1], [0, 2, 0.2], [0, 3, 0.1], [1, 0, 0.9], [2, 0, 0.8], [3, 0, 1]])
    >>> model = EncoderCascade(cv=3, encoder_columns=1).fit(X, ["a", "a", "a", "b", "b", "b"])
    >>> model.predict(np.array([[0.0, 5, 0.1], [5, 0, 1]])).tolist()
    ['a', 'b']
    """

    def __init__(
        self,
        C: float = 1.0,
        encoder_C: float | None = None,
        cv: int = 2,
        method: str = "temperature",
        random_state: int = 0,
        n_jobs: int | None = None,
        encoder_columns: int = 384,
        gate: float = 0.9,
        confirm: Sequence[str] = (),
        confirm_floor: float = 0.05,
    ) -> None:
        self.C = C
        self.encoder_C = encoder_C
        self.cv = cv
        self.method = method
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.encoder_columns = encoder_columns
        self.gate = gate
        self.confirm = confirm
        self.confirm_floor = confirm_floor

    def _calibrated(self, C: float) -> CalibratedLinearSVC:
        return CalibratedLinearSVC(
            C=C,
            cv=self.cv,
            method=self.method,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
        )

    def _ngrams(self, X: Any) -> Any:
        return X[:, : X.shape[1] - self.encoder_columns]

    def fit(self, X: Any, y: Any) -> EncoderCascade:
        X = X.tocsr() if hasattr(X, "tocsr") else X
        self.fast_ = self._calibrated(self.C).fit(self._ngrams(X), y)
        encoder_C = self.C if self.encoder_C is None else self.encoder_C
        self.full_ = self._calibrated(encoder_C).fit(X, y)
        self.classes_: NDArray[Any] = self.fast_.classes_
        return self

    def needs_encoder(self, fast_proba: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Which rows the encoder model decides, given the fast model's probabilities."""
        check_is_fitted(self, "fast_")
        unsure: NDArray[np.bool_] = fast_proba.max(axis=1) < self.gate
        costly_columns = np.isin(self.classes_, list(self.confirm))
        if not costly_columns.any():
            return unsure
        costly = fast_proba[:, costly_columns].max(axis=1) >= self.confirm_floor
        needed: NDArray[np.bool_] = unsure | costly
        return needed

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        X = X.tocsr() if hasattr(X, "tocsr") else X
        proba: NDArray[np.float64] = self.fast_.predict_proba(self._ngrams(X))
        needed = self.needs_encoder(proba)
        if needed.any():
            proba[needed] = self.full_.predict_proba(X[needed])
        return proba

    def predict(self, X: Any) -> NDArray[Any]:
        predicted: NDArray[Any] = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return predicted
