"""Scores of a model on labelled messages: per-intent precision/recall/F1, confusions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from tidal.engine.classify.model import IntentModel


@dataclass(frozen=True)
class IntentScore:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    """How predictions compare with the truth, over a fixed label order."""

    labels: tuple[str, ...]
    accuracy: float
    macro_f1: float
    per_intent: tuple[IntentScore, ...]
    confusion: tuple[tuple[int, ...], ...]
    examples: int
    errors: tuple[tuple[str, str, str], ...] = field(default=())

    def confused_pairs(self, limit: int = 10) -> list[tuple[str, str, int]]:
        """(true, predicted, count) of the most frequent mistakes, most frequent first."""
        pairs = [
            (self.labels[i], self.labels[j], count)
            for i, row in enumerate(self.confusion)
            for j, count in enumerate(row)
            if i != j and count > 0
        ]
        return sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))[:limit]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for `metrics.json`)."""
        return {
            "examples": self.examples,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_intent": {
                s.intent: {
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "support": s.support,
                }
                for s in self.per_intent
            },
            "labels": list(self.labels),
            "confusion": [list(row) for row in self.confusion],
            "confused_pairs": [list(p) for p in self.confused_pairs()],
        }


def score(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    labels: Sequence[str],
    texts: Sequence[str] | None = None,
) -> Evaluation:
    """Compare predictions with the truth; labels outside `labels` are added at the end."""
    order = list(labels) + sorted(set(y_true).union(y_pred) - set(labels))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=order, zero_division=0
    )
    per_intent = tuple(
        IntentScore(order[i], float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
        for i in range(len(order))
    )
    present = [s for s in per_intent if s.support > 0]
    matrix = confusion_matrix(y_true, y_pred, labels=order)
    hits = sum(t == p for t, p in zip(y_true, y_pred, strict=True))
    errors = tuple(
        (text, t, p)
        for text, t, p in zip(texts or [""] * len(y_true), y_true, y_pred, strict=True)
        if t != p
    )
    return Evaluation(
        labels=tuple(order),
        accuracy=hits / len(y_true) if y_true else 0.0,
        macro_f1=sum(s.f1 for s in present) / len(present) if present else 0.0,
        per_intent=per_intent,
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),
        examples=len(y_true),
        errors=errors,
    )


def evaluate_model(model: IntentModel, texts: Sequence[str], y_true: Sequence[str]) -> Evaluation:
    """Score a loaded model (thresholds and fallback applied) on labelled messages."""
    predicted = [model.predict(text)[0] for text in texts]
    return score(y_true, predicted, model.labels, texts)


def most_common_labels(labels: Sequence[str]) -> list[tuple[str, int]]:
    """Label counts, most common first (for model cards)."""
    return Counter(labels).most_common()
