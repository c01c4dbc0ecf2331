"""Per-intent probability thresholds and the fallback they lead to.

The model's top intent is accepted only when its probability reaches that intent's
threshold; otherwise the message falls back to `other` (docs/concepts.md#classification). A wrong
ineffectual
intent hides a customer's message (a `thanks` that was a question gets ignored, a
`goodbye` closes the conversation), whereas a wrong fallback only costs an agent a
glance. So thresholds are tuned for F-beta with beta < 1, which weighs precision
above recall.

Escalation intents are the exception: a missed `urgent` or `request_human` leaves a
customer with a stolen card in the ordinary queue, while a false one only costs a
supervisor's look. They are tuned for plain F1 (`ESCALATION_BETAS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

#: Candidate thresholds: a coarse grid, because held-out sets of a few dozen examples
#: per intent cannot justify finer distinctions.
THRESHOLD_GRID: tuple[float, ...] = tuple(round(0.30 + 0.05 * i, 2) for i in range(14))

#: Used for an intent the held-out data never predicted: no evidence either way.
DEFAULT_THRESHOLD = 0.5

#: Per-intent F-beta overriding the default beta (see the module docstring).
ESCALATION_BETAS: dict[str, float] = {"urgent": 1.0, "request_human": 1.0}


def apply_thresholds(
    proba: NDArray[np.float64],
    classes: Sequence[str],
    thresholds: dict[str, float],
    fallback: str,
) -> list[str]:
    """The accepted intent of every row of `proba`: top intent or `fallback`."""
    top = proba.argmax(axis=1)
    labels: list[str] = []
    for row, index in enumerate(top):
        intent = classes[index]
        accepted = proba[row, index] >= thresholds.get(intent, 0.0)
        labels.append(intent if accepted else fallback)
    return labels


def _f_beta(true_positives: int, predicted: int, actual: int, beta: float) -> float:
    if true_positives == 0:
        return 0.0
    precision = true_positives / predicted
    recall = true_positives / actual
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)


def tune_thresholds(
    y_true: Sequence[str],
    proba: NDArray[np.float64],
    classes: Sequence[str],
    fallback: str,
    beta: float = 0.5,
    grid: Sequence[float] = THRESHOLD_GRID,
    betas: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The threshold of every intent that maximises its F-beta on held-out predictions.

    `betas` overrides `beta` for some intents (by default `ESCALATION_BETAS`).

    `proba` must come from a model that did not see `y_true` (out-of-fold or held-out
    predictions). Ties go to the lowest threshold. The fallback intent needs none (0.0).
    """
    truth = np.asarray(y_true)
    top_index = proba.argmax(axis=1)
    top_intent = np.asarray(classes)[top_index]
    top_proba = proba[np.arange(len(truth)), top_index]
    overrides = ESCALATION_BETAS if betas is None else betas
    thresholds: dict[str, float] = {}
    for intent in classes:
        intent_beta = overrides.get(str(intent), beta)
        if intent == fallback:
            thresholds[str(intent)] = 0.0
            continue
        actual = int((truth == intent).sum())
        proposed = top_intent == intent
        if actual == 0 or not proposed.any():
            thresholds[str(intent)] = DEFAULT_THRESHOLD
            continue
        best_score, best_threshold = -1.0, DEFAULT_THRESHOLD
        for threshold in grid:
            accepted = proposed & (top_proba >= threshold)
            score = _f_beta(
                int((accepted & (truth == intent)).sum()),
                int(accepted.sum()),
                actual,
                intent_beta,
            )
            if score > best_score:
                best_score, best_threshold = score, float(threshold)
        thresholds[str(intent)] = best_threshold
    return thresholds
