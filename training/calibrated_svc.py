"""A LinearSVC with calibrated probabilities, its fits run side by side.

It computes what `CalibratedClassifierCV(LinearSVC(...), cv=StratifiedKFold(k, shuffle=True),
ensemble=False)` computes: an SVM fitted on all the data, and calibrators fitted on the
out-of-fold decision values of k fold models. scikit-learn fits the folds first and the
final model after them; here all k + 1 fits share one pool of `n_jobs` worker processes,
so on two cores a 2-fold calibration costs about the wall time of the final fit alone
instead of the folds' plus the final fit's.

The calibrators are scikit-learn's own: a `CalibratedClassifierCV` over a frozen
pass-through estimator, fitted on the out-of-fold decision values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from joblib import Parallel, delayed
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted


class _DecisionValues(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Treats its input as decision values: what the calibrators are fitted on."""

    def fit(self, X: NDArray[np.float64], y: NDArray[Any]) -> _DecisionValues:
        self.classes_ = np.unique(y)
        return self

    def decision_function(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        # A binary SVM has one decision value per row, as a vector.
        return X[:, 0] if X.shape[1] == 1 else X

    def predict(self, X: NDArray[np.float64]) -> NDArray[Any]:
        if X.shape[1] == 1:
            predicted: NDArray[Any] = self.classes_[(X[:, 0] > 0).astype(int)]
            return predicted
        winners: NDArray[Any] = self.classes_[np.argmax(X, axis=1)]
        return winners


#: liblinear's iteration cap: the default 1,000 is too few for the word-vector block on
#: the grown inbound data; a fit that converges sooner stops at its tolerance unchanged.
MAX_ITER = 10_000


def _fit_svm(X: Any, y: NDArray[Any], C: float, random_state: int) -> LinearSVC:
    return LinearSVC(C=C, random_state=random_state, max_iter=MAX_ITER).fit(X, y)


def fit_calibration(
    decisions: NDArray[np.float64], labels: NDArray[Any], method: str
) -> CalibratedClassifierCV:
    """scikit-learn's calibrators fitted on out-of-fold decision values."""
    passthrough = FrozenEstimator(_DecisionValues().fit(decisions, labels))
    # The frozen estimator ignores the folds; KFold only keeps scikit-learn from
    # checking class counts that no fit depends on.
    calibration = CalibratedClassifierCV(passthrough, method=method, cv=KFold(2))
    fitted: CalibratedClassifierCV = calibration.fit(decisions, labels)
    return fitted


class CalibratedLinearSVC(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """LinearSVC + `temperature` or `sigmoid` calibration on `cv` out-of-fold folds.

    `n_jobs` processes run the final fit and the fold fits together (the same model as
    one process fits, in less wall time). After `fit`: `svm_` (the LinearSVC fitted on
    everything), `calibrators_` (scikit-learn's fitted calibrators: one `beta_` for
    temperature, `a_`/`b_` per class for sigmoid) and `classes_`.

    >>> X = np.array([[0.0, 1], [0, 2], [0, 3], [1, 0], [2, 0], [3, 0]])
    >>> model = CalibratedLinearSVC(cv=3).fit(X, ["a", "a", "a", "b", "b", "b"])
    >>> model.predict(np.array([[0.0, 5], [5, 0]])).tolist()
    ['a', 'b']
    """

    def __init__(
        self,
        C: float = 1.0,
        cv: int = 2,
        method: str = "temperature",
        random_state: int = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.C = C
        self.cv = cv
        self.method = method
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any) -> CalibratedLinearSVC:
        labels = np.asarray(y)
        splits = list(
            StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state).split(
                np.zeros(len(labels)), labels
            )
        )
        parts = [(X, labels), *((X[train], labels[train]) for train, _ in splits)]
        # Processes, not threads: liblinear draws from one process-wide random state,
        # so fits sharing a process would make each other's results irreproducible.
        fitted = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_svm)(rows, row_labels, self.C, self.random_state)
            for rows, row_labels in parts
        )
        self.svm_: LinearSVC = fitted[0]
        self.classes_: NDArray[Any] = self.svm_.classes_
        decisions = np.zeros((len(labels), 1 if len(self.classes_) == 2 else len(self.classes_)))
        for fold_svm, (_, held_out) in zip(fitted[1:], splits, strict=True):
            if not np.array_equal(fold_svm.classes_, self.classes_):
                raise ValueError("every intent needs examples in every calibration fold")
            decisions[held_out] = fold_svm.decision_function(X[held_out]).reshape(len(held_out), -1)
        #: The out-of-fold decision values and the folds (for models built on this one).
        self.oof_decisions_ = decisions
        self.splits_ = splits
        self.calibration_ = fit_calibration(decisions, labels, self.method)
        self.calibrators_ = self.calibration_.calibrated_classifiers_[0].calibrators
        return self

    def decision_function(self, X: Any) -> NDArray[np.float64]:
        check_is_fitted(self, "svm_")
        values: NDArray[np.float64] = self.svm_.decision_function(X)
        return values

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        values = self.decision_function(X).reshape(X.shape[0], -1)
        proba: NDArray[np.float64] = self.calibration_.predict_proba(values)
        return proba

    def predict(self, X: Any) -> NDArray[Any]:
        predicted: NDArray[Any] = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return predicted
