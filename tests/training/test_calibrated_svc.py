"""CalibratedLinearSVC is scikit-learn's calibrated LinearSVC, fitted side by side."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from tidal.training.calibrated_svc import CalibratedLinearSVC


def _data(n_classes: int) -> tuple[NDArray[np.float64], NDArray[np.str_]]:
    X, y = make_classification(
        n_samples=300,
        n_features=40,
        n_informative=12,
        n_classes=n_classes,
        n_clusters_per_class=1,
        class_sep=0.6,
        random_state=3,
    )
    return X, np.array([f"intent-{label}" for label in y])


def _reference(method: str, X: NDArray[np.float64], y: NDArray[np.str_]) -> CalibratedClassifierCV:
    return CalibratedClassifierCV(
        LinearSVC(C=0.5, random_state=0),
        method=method,
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
        ensemble=False,
    ).fit(X, y)


@pytest.mark.parametrize("method", ["temperature", "sigmoid"])
@pytest.mark.parametrize("n_classes", [2, 5])
def test_same_model_as_calibrated_classifier_cv(method: str, n_classes: int) -> None:
    X, y = _data(n_classes)
    reference = _reference(method, X, y)
    model = CalibratedLinearSVC(C=0.5, cv=3, method=method, n_jobs=2).fit(X, y)

    assert list(model.classes_) == list(reference.classes_)
    fitted = reference.calibrated_classifiers_[0]
    np.testing.assert_array_equal(model.svm_.coef_, fitted.estimator.coef_)
    np.testing.assert_array_equal(model.predict_proba(X), reference.predict_proba(X))
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))
    assert len(model.calibrators_) == len(fitted.calibrators)


def test_parallel_and_serial_fits_agree() -> None:
    X, y = _data(5)
    serial = CalibratedLinearSVC(cv=2, n_jobs=1).fit(X, y)
    parallel = CalibratedLinearSVC(cv=2, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(serial.predict_proba(X), parallel.predict_proba(X))


def test_probabilities_are_a_distribution_over_classes() -> None:
    X, y = _data(5)
    proba = CalibratedLinearSVC().fit(X, y).predict_proba(X[:20])
    assert proba.shape == (20, 5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba >= 0).all()


def test_an_intent_missing_from_a_calibration_fold_is_refused() -> None:
    X, y = _data(3)
    y = y.copy()
    y[0] = "only-once"
    with (
        pytest.warns(UserWarning, match="least populated class"),
        pytest.raises(ValueError, match="every calibration fold"),
    ):
        CalibratedLinearSVC(cv=2).fit(X, y)
