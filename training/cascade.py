"""The encoder cascade: a fast n-gram model, and an encoder model where the fast one is unsure.

Fitted on the same messages:

- `fast_`: the calibrated LinearSVC on the TF-IDF columns (what a model without the
  encoder is);
- `head_`: a multinomial logistic regression on the sentence embeddings (the last
  `encoder_columns` columns of X);
- the encoder model: the fast SVM's decision values plus `encoder_weight` times the
  head's logits (scaled to unit spread on the training data), calibrated on out-of-fold
  values of both (the SVM's calibration folds, and head fits on the same folds).

That late fusion is linear, so the service computes it as one more row block of
coefficients (`tidal.engine.classify.model`). It was chosen over one SVM on both blocks of
columns because it was both better and faster to fit on validation data (see
`training/README.md`): liblinear's cost grows with non-zeros per row, and 384 dense
columns multiply them by four, while the logistic regression on 384 dense columns
converges in a few dozen L-BFGS steps.

A message keeps the fast model's answer when its top probability reaches `gate` and it
gives no intent of `confirm` `confirm_floor` or more; otherwise the encoder model
answers. `confirm` names the intents whose mistakes cost most (closing a conversation,
jumping the queue, offering more help, after which "no thanks" closes): the encoder
checks every message the fast model gives one of them as its answer, or as a runner-up
it cannot rule out ("Would you like more assistance?" read as `other` 0.93 and
`offer_more_help` 0.07).

`predict_proba` computes exactly what the service computes, so thresholds tuned on it
and figures measured with it hold for the cascade as served.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from tidal.training.calibrated_svc import CalibratedLinearSVC, fit_calibration

#: L-BFGS steps for the head; it converges in 30-70 on the public benchmarks.
HEAD_ITERATIONS = 500


def _fit_head(X: NDArray[np.float32], y: NDArray[Any], C: float) -> LogisticRegression:
    return LogisticRegression(C=C, max_iter=HEAD_ITERATIONS).fit(X, y)


def _logits(head: LogisticRegression, X: NDArray[np.float32]) -> NDArray[np.float64]:
    values: NDArray[np.float64] = head.decision_function(X)
    return values.reshape(X.shape[0], -1)


class EncoderCascade(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Fast model where it is sure, encoder model elsewhere.

    >>> X = np.array([[0.0, 1, 0.1], [0, 2, 0.2], [0, 3, 0.1], [1, 0, 0.9], [2, 0, 0.8], [3, 0, 1]])
    >>> model = EncoderCascade(cv=3, encoder_columns=1).fit(X, ["a", "a", "a", "b", "b", "b"])
    >>> model.predict(np.array([[0.0, 5, 0.1], [5, 0, 1]])).tolist()
    ['a', 'b']
    """

    def __init__(
        self,
        C: float = 1.0,
        encoder_C: float = 10.0,
        encoder_weight: float = 0.75,
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
        self.encoder_weight = encoder_weight
        self.cv = cv
        self.method = method
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.encoder_columns = encoder_columns
        self.gate = gate
        self.confirm = confirm
        self.confirm_floor = confirm_floor

    def _split(self, X: Any) -> tuple[Any, NDArray[np.float32]]:
        """(n-gram columns, dense encoder columns) of X."""
        X = X.tocsr() if hasattr(X, "tocsr") else X
        edge = X.shape[1] - self.encoder_columns
        dense = X[:, edge:]
        dense = dense.toarray() if hasattr(dense, "toarray") else np.asarray(dense)
        return X[:, :edge], dense.astype(np.float32)

    def fit(self, X: Any, y: Any) -> EncoderCascade:
        labels = np.asarray(y)
        ngrams, embeddings = self._split(X)
        self.fast_ = CalibratedLinearSVC(
            C=self.C,
            cv=self.cv,
            method=self.method,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
        ).fit(ngrams, labels)
        self.classes_: NDArray[Any] = self.fast_.classes_
        splits = self.fast_.splits_
        parts = [(embeddings, labels), *((embeddings[t], labels[t]) for t, _ in splits)]
        heads = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_head)(rows, row_labels, self.encoder_C) for rows, row_labels in parts
        )
        self.head_: LogisticRegression = heads[0]
        out_of_fold = np.zeros_like(self.fast_.oof_decisions_)
        for head, (_, held_out) in zip(heads[1:], splits, strict=True):
            if not np.array_equal(head.classes_, self.classes_):
                raise ValueError("every intent needs examples in every calibration fold")
            out_of_fold[held_out] = _logits(head, embeddings[held_out])
        spread = float(np.std(_logits(self.head_, embeddings)))
        #: What the head's logits are multiplied by before they join the SVM's values.
        self.head_scale_ = self.encoder_weight / spread if spread > 0.0 else 0.0
        fused = self.fast_.oof_decisions_ + self.head_scale_ * out_of_fold
        self.calibration_ = fit_calibration(fused, labels, self.method)
        self.calibrators_ = self.calibration_.calibrated_classifiers_[0].calibrators
        return self

    @property
    def coef_(self) -> NDArray[np.float64]:
        """The encoder model's coefficients: n-gram rows, then encoder rows (features x out)."""
        check_is_fitted(self, "head_")
        svm, head = self.fast_.svm_, self.head_
        return np.vstack([svm.coef_.T, self.head_scale_ * head.coef_.T])

    @property
    def intercept_(self) -> NDArray[np.float64]:
        check_is_fitted(self, "head_")
        fused: NDArray[np.float64] = (
            self.fast_.svm_.intercept_ + self.head_scale_ * self.head_.intercept_
        )
        return fused

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

    def encoder_proba(self, X: Any) -> NDArray[np.float64]:
        """The encoder model's probabilities for every row (what `gate` 1.01 gives)."""
        ngrams, embeddings = self._split(X)
        decisions = self.fast_.decision_function(ngrams).reshape(ngrams.shape[0], -1)
        fused = decisions + self.head_scale_ * _logits(self.head_, embeddings)
        proba: NDArray[np.float64] = self.calibration_.predict_proba(fused)
        return proba

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        ngrams, _ = self._split(X)
        proba: NDArray[np.float64] = self.fast_.predict_proba(ngrams)
        needed = self.needs_encoder(proba)
        if needed.any():
            X = X.tocsr() if hasattr(X, "tocsr") else X
            proba[needed] = self.encoder_proba(X[needed])
        return proba

    def predict(self, X: Any) -> NDArray[Any]:
        predicted: NDArray[Any] = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return predicted
