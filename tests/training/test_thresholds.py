"""Per-intent thresholds are tuned for precision on held-out predictions."""

from __future__ import annotations

import numpy as np

from tidal.training.thresholds import DEFAULT_THRESHOLD, apply_thresholds, tune_thresholds

CLASSES = ["gratitude", "other"]


def _proba(top_gratitude: list[float]) -> np.ndarray:
    return np.array([[p, 1.0 - p] for p in top_gratitude])


def test_threshold_rises_above_confident_mistakes() -> None:
    # Right answers at 0.9+, wrong "gratitude" guesses at 0.6: the threshold must
    # land between them so the mistakes fall back to other.
    proba = _proba([0.95, 0.92, 0.91, 0.6, 0.62, 0.2])
    truth = ["gratitude", "gratitude", "gratitude", "other", "other", "other"]
    thresholds = tune_thresholds(truth, proba, CLASSES, fallback="other")
    assert 0.62 < thresholds["gratitude"] <= 0.91
    assert apply_thresholds(proba, CLASSES, thresholds, "other") == truth


def test_ties_keep_the_lowest_threshold() -> None:
    proba = _proba([0.95, 0.9, 0.1])
    thresholds = tune_thresholds(["gratitude", "gratitude", "other"], proba, CLASSES, "other")
    assert thresholds["gratitude"] == 0.3


def test_fallback_needs_no_threshold_and_unseen_intents_get_the_default() -> None:
    proba = np.array([[0.1, 0.2, 0.7], [0.2, 0.1, 0.7]])
    thresholds = tune_thresholds(
        ["other", "other"], proba, ["gratitude", "greeting", "other"], fallback="other"
    )
    assert thresholds == {
        "gratitude": DEFAULT_THRESHOLD,
        "greeting": DEFAULT_THRESHOLD,
        "other": 0.0,
    }


def test_apply_thresholds_falls_back_below_threshold() -> None:
    proba = _proba([0.7, 0.4])
    assert apply_thresholds(proba, CLASSES, {"gratitude": 0.5, "other": 0.0}, "other") == [
        "gratitude",
        "other",
    ]


def test_escalation_intents_weigh_recall_as_much_as_precision() -> None:
    # Two emergencies at 0.56-0.58 sit below two false alarms at 0.57-0.6:
    # precision-first tuning rises above all four and misses the emergencies; F1 keeps them.
    classes = ["other", "urgent"]
    top = [0.95, 0.9, 0.85, 0.58, 0.56, 0.6, 0.57]
    proba = np.array([[1.0 - p, p] for p in top])
    truth = ["urgent"] * 5 + ["other"] * 2
    assert tune_thresholds(truth, proba, classes, "other")["urgent"] <= 0.55
    assert tune_thresholds(truth, proba, classes, "other", betas={})["urgent"] >= 0.65
