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

Out of scope (`tune_out_of_scope`, optional): where one label stands for "none of these"
(CLINC150's `oos`, Tidal's `other`), the encoder model calls a message out of scope
when that label is the most probable, or when its score, the log of the top in-scope
probability plus `weight` times the cosine similarity of its embedding to the nearest
in-scope intent's centroid (the mean embedding of that intent's training messages), is
below a threshold. The weight and threshold are chosen on validation data: the pair
that gets the most validation messages right, ties going to the smaller weight (weight
0 is the probability threshold alone). Far-off messages get a low similarity even when
the classifier is sure, which a probability cannot show (`training/README.md`).
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
#: Weights of the centroid similarity tried by `tune_out_of_scope`, simplest first.
OUT_OF_SCOPE_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0)


def _fit_head(X: NDArray[np.float32], y: NDArray[Any], C: float) -> LogisticRegression:
    return LogisticRegression(C=C, max_iter=HEAD_ITERATIONS).fit(X, y)


def _unit_rows(matrix: NDArray[Any]) -> NDArray[np.float64]:
    rows = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: NDArray[np.float64] = rows / np.where(norms > 0.0, norms, 1.0)
    return unit


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
        #: Unit-length mean embedding of each class's training messages (rows: classes_).
        self.centroids_ = _unit_rows(
            np.stack([embeddings[labels == c].mean(axis=0) for c in self.classes_])
        )
        return self

    def out_of_scope_scores(
        self, X: Any, label: str, weight: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The encoder model's probabilities for every row, and each row's in-scope
        score: log top in-scope probability + weight x similarity to the nearest
        in-scope centroid."""
        _, embeddings = self._split(X)
        proba = self.encoder_proba(X)
        return proba, self._scores(proba, embeddings.astype(np.float64), label, weight)

    def _scores(
        self, proba: NDArray[np.float64], embeddings: NDArray[np.float64], label: str, weight: float
    ) -> NDArray[np.float64]:
        in_scope = self.classes_ != label
        top = proba[:, in_scope].max(axis=1)
        similarity = (embeddings @ self.centroids_[in_scope].T).max(axis=1)
        scores: NDArray[np.float64] = np.log(np.maximum(top, 1e-300)) + weight * similarity
        return scores

    def _scoped(
        self, proba: NDArray[np.float64], scores: NDArray[np.float64], label: str, threshold: float
    ) -> NDArray[Any]:
        in_scope = self.classes_ != label
        predicted = self.classes_[in_scope][proba[:, in_scope].argmax(axis=1)]
        beaten = proba[:, ~in_scope].max(axis=1) > proba[:, in_scope].max(axis=1)
        outside: NDArray[Any] = np.where(beaten | (scores < threshold), label, predicted)
        return outside

    def tune_out_of_scope(
        self, X: Any, y: Sequence[str], label: str, weights: Sequence[float] = OUT_OF_SCOPE_WEIGHTS
    ) -> EncoderCascade:
        """Choose the out-of-scope weight and threshold on validation rows `X`, `y`
        (messages of `label` included): the most rows right, ties to the smaller weight
        and then the lower threshold."""
        check_is_fitted(self, "centroids_")
        if label not in set(self.classes_):
            raise ValueError(f"the out-of-scope label {label!r} is not a trained class")
        gold = np.asarray(y)
        _, embeddings = self._split(X)
        proba = self.encoder_proba(X)
        is_label = gold == label
        best: tuple[int, float, float] | None = None
        for weight in weights:
            scores = self._scores(proba, embeddings.astype(np.float64), label, weight)
            # Below a threshold a row is called out of scope, else keeps its answer:
            # count both kinds of right rows for every candidate at once.
            kept_right = self._scoped(proba, scores, label, -np.inf) == gold
            order = np.argsort(scores, kind="stable")
            candidates = np.unique(np.r_[-np.inf, scores])
            below = np.searchsorted(scores[order], candidates, side="left")
            label_right = np.r_[0, np.cumsum(is_label[order])]
            still_right = np.r_[0, np.cumsum(kept_right[order])]
            right = label_right[below] + still_right[-1] - still_right[below]
            top = int(np.argmax(right))  # the first of equals: the lowest threshold
            if best is None or int(right[top]) > best[0]:
                best = (int(right[top]), float(weight), _between(candidates, top))
        assert best is not None
        self.out_of_scope_label_ = label
        self.out_of_scope_weight_ = best[1]
        self.out_of_scope_threshold_ = best[2]
        return self

    def predict_scoped(self, X: Any) -> NDArray[Any]:
        """The encoder model's intent for every row, or the out-of-scope label
        (after `tune_out_of_scope`)."""
        check_is_fitted(self, "out_of_scope_threshold_")
        label = self.out_of_scope_label_
        proba, scores = self.out_of_scope_scores(X, label, self.out_of_scope_weight_)
        return self._scoped(proba, scores, label, self.out_of_scope_threshold_)

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


def _between(candidates: NDArray[np.float64], top: int) -> float:
    """A threshold that sorts the validation rows as `candidates[top]` does, halfway to
    the next lower score: a row whose score IS the threshold would otherwise flip with
    the last bit of floating-point noise between training and serving."""
    chosen = float(candidates[top])
    if top == 0:
        return chosen  # -inf: nothing is out of scope
    lower = float(candidates[top - 1]) if top >= 2 else chosen - 1.0
    return (lower + chosen) / 2
