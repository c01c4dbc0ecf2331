"""Compare model choices by cross-validation on the TRAINING data only.

    .venv/bin/python -m tidal.training.model_search [--direction inbound] [--folds 5]

Prints, per candidate, macro F1 and accuracy of the top intent (no thresholds) and the
log loss of the calibrated probabilities, as mean over stratified folds of
`training/data/<direction>/`. The held-out `training/eval/` sets are not read: they
judge the final model only. Results and the choice made are in `training/README.md`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from tidal.training.dataset import load_directory
from tidal.training.estimator import build_pipeline


def _with_classifier(pipeline: Pipeline, classifier: object) -> Pipeline:
    return pipeline.set_params(classifier=classifier)


def _without_block(pipeline: Pipeline, block: str) -> Pipeline:
    return pipeline.set_params(**{f"features__{block}": "drop"})


def candidates() -> dict[str, Callable[[], Pipeline]]:
    """Name -> factory of an unfitted pipeline from raw text to probabilities."""
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    options: dict[str, Callable[[], Pipeline]] = {}
    for c in (0.25, 0.5, 1.0, 2.0):
        options[f"svm C={c}, temperature"] = partial(build_pipeline, C=c)
    for c in (0.5, 1.0):
        options[f"svm C={c}, sigmoid"] = partial(build_pipeline, C=c, calibration="sigmoid")
    options["svm C=0.5, isotonic"] = lambda: _with_classifier(
        build_pipeline(C=0.5),
        CalibratedClassifierCV(LinearSVC(C=0.5), method="isotonic", cv=folds, ensemble=False),
    )
    options["svm C=0.5, temperature, words only"] = lambda: _without_block(
        build_pipeline(C=0.5), "chars"
    )
    options["svm C=0.5, temperature, chars only"] = lambda: _without_block(
        build_pipeline(C=0.5), "words"
    )
    for c in (10.0, 30.0):
        options[f"logistic regression C={c}, temperature"] = partial(_logistic, c, folds)
    return options


def _logistic(c: float, folds: StratifiedKFold) -> Pipeline:
    return _with_classifier(
        build_pipeline(),
        CalibratedClassifierCV(
            LogisticRegression(C=c, max_iter=1000),
            method="temperature",
            cv=folds,
            ensemble=False,
        ),
    )


def cross_validate(
    factory: Callable[[], Pipeline], texts: list[str], labels: list[str], folds: int
) -> tuple[float, float, float, float]:
    """Mean macro F1, accuracy, log loss and seconds per fit over stratified folds."""
    x, y = np.asarray(texts, dtype=object), np.asarray(labels)
    f1s, accuracies, losses, seconds = [], [], [], []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(x, y):
        pipeline = clone(factory())
        started = time.perf_counter()
        pipeline.fit(list(x[train]), list(y[train]))
        seconds.append(time.perf_counter() - started)
        proba = pipeline.predict_proba(list(x[test]))
        predicted = pipeline.classes_[proba.argmax(axis=1)]
        f1s.append(f1_score(y[test], predicted, average="macro"))
        accuracies.append(accuracy_score(y[test], predicted))
        losses.append(log_loss(y[test], proba, labels=pipeline.classes_))
    return (
        float(np.mean(f1s)),
        float(np.mean(accuracies)),
        float(np.mean(losses)),
        float(np.mean(seconds)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Cross-validated comparison of model choices.")
    parser.add_argument("--direction", choices=("inbound", "outbound"), default="inbound")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path("training/data"))
    args = parser.parse_args()
    examples = load_directory(args.data / args.direction, direction=args.direction)
    texts, labels = [e.text for e in examples], [e.intent for e in examples]
    print(f"{args.direction}: {len(texts)} examples, {args.folds}-fold cross-validation")
    print(f"{'candidate':42s} {'macro F1':>8s} {'accuracy':>8s} {'log loss':>8s} {'fit s':>6s}")
    for name, factory in candidates().items():
        f1, accuracy, loss, seconds = cross_validate(factory, texts, labels, args.folds)
        print(f"{name:42s} {f1:8.4f} {accuracy:8.4f} {loss:8.4f} {seconds:6.2f}", flush=True)


if __name__ == "__main__":
    main()
