"""The human-facing files of a model directory: confusion-matrix PNG and model card."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tidal.training.evaluation import Evaluation

CONFUSION_FILENAME = "confusion_matrix.png"
CARD_FILENAME = "MODEL_CARD.md"
METRICS_FILENAME = "metrics.json"
REPORT_FILENAME = "report.md"


def write_confusion_png(evaluation: Evaluation, path: Path, title: str) -> None:
    """A labelled confusion matrix (rows: truth, columns: prediction)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: training runs on servers and in CI
    import matplotlib.pyplot as plt

    size = max(4.0, 0.55 * len(evaluation.labels) + 2.0)
    figure, axes = plt.subplots(figsize=(size, size), dpi=100)
    try:
        axes.imshow(evaluation.confusion, cmap="Blues")
        ticks = range(len(evaluation.labels))
        axes.set_xticks(list(ticks), evaluation.labels, rotation=60, ha="right", fontsize=8)
        axes.set_yticks(list(ticks), evaluation.labels, fontsize=8)
        axes.set_xlabel("predicted")
        axes.set_ylabel("true")
        axes.set_title(title, fontsize=10)
        peak = max((max(row) for row in evaluation.confusion), default=0)
        for i, row in enumerate(evaluation.confusion):
            for j, count in enumerate(row):
                if count:
                    colour = "white" if count > peak / 2 else "black"
                    axes.text(j, i, str(count), ha="center", va="center", fontsize=7, color=colour)
        figure.tight_layout()
        figure.savefig(path)
    finally:
        plt.close(figure)


def _table(evaluation: Evaluation) -> list[str]:
    lines = ["| intent | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for s in evaluation.per_intent:
        lines.append(
            f"| `{s.intent}` | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.support} |"
        )
    return lines


def evaluation_report(
    version: str,
    direction: str,
    model: Path,
    held_out: Path,
    evaluation: Evaluation,
    comparison: str | None,
) -> str:
    """What `tidal evaluate` found, as Markdown beside its confusion-matrix PNG."""
    lines = [
        f"# Evaluation of `{version}` ({direction})",
        "",
        f"Model `{model}`, held-out set `{held_out}`: {evaluation.examples} messages never "
        "used for training or tuning; thresholds and fallback applied.",
        "",
        f"Accuracy **{evaluation.accuracy:.4f}**, macro F1 **{evaluation.macro_f1:.4f}**.",
        "",
    ]
    if comparison is not None:
        lines += [comparison[0].upper() + comparison[1:] + ".", ""]
    lines += [
        *_table(evaluation),
        "",
        f"![Confusion matrix]({CONFUSION_FILENAME}) (rows: true intent, columns: predicted).",
        "",
        "Most confused (true → predicted):",
        "",
    ]
    pairs = evaluation.confused_pairs(10)
    lines += [f"- `{t}` → `{p}`: {n}" for t, p, n in pairs] or ["- none"]
    return "\n".join([*lines, ""])


def _encoder_paragraph(metadata: dict[str, Any]) -> list[str]:
    encoder = metadata["features"].get("encoder")
    if not encoder:
        return []
    confirm = ", ".join(f"`{intent}`" for intent in encoder["confirm"]) or "none"
    return [
        f"A cascade model: where the n-gram model's top probability is below "
        f"{encoder['gate']}, or it gives {encoder['confirm_floor']} or more to an intent "
        f"that closes or escalates ({confirm}), the sentence encoder "
        f"({encoder['name']}, `models/encoder/`, sha256 `{encoder['sha256'][:16]}…`) "
        f"decides: the SVM's values plus {encoder['weight']} x the logits of a logistic "
        f"regression (C = {encoder['C']}) on the message's embedding, calibrated "
        "out-of-fold. Such answers have source `encoder`; see `training/README.md`.",
        "",
    ]


def model_card(
    metadata: dict[str, Any],
    evaluation: Evaluation | None,
    training_counts: Sequence[tuple[str, int]],
) -> str:
    """A short Markdown model card: what, trained on what, how good, known limits."""
    lines = [
        f"# Model card: `{metadata['version']}`",
        "",
        f"Tidal's **{metadata['direction']}** intent model: classifies "
        f"{'customer' if metadata['direction'] == 'inbound' else 'agent'} messages into the "
        "workflow intents of docs/concepts.md#intents, after the intent rules and before "
        "the fallback.",
        "",
        "## How it works",
        "",
        "NFKC + whitespace normalisation, spaCy English tokenizer with lookup lemmas "
        "(lower-cased); TF-IDF of word 1-"
        f"{metadata['features']['word_max_n']} grams and character "
        f"{metadata['features']['char_min_n']}-{metadata['features']['char_max_n']} grams "
        f"(sublinear tf); {metadata['classifier']['type']}, C = {metadata['classifier']['C']}; "
        f"probabilities calibrated ({metadata['classifier']['calibration']}); per-intent "
        f"thresholds ({metadata['classifier']['thresholds']} of the training data); "
        f"below its threshold a message falls back to `{metadata['fallback']}`.",
        "",
        *_encoder_paragraph(metadata),
        "Chosen by 5-fold cross-validation on the training data (never on the held-out "
        "set) among LinearSVC C in {0.25, 0.5, 1, 2}, temperature / sigmoid / isotonic "
        "calibration, word-only and char-only features, and logistic regression; the "
        "figures are in `training/README.md` (`python -m tidal.training.model_search`).",
        "",
        "## Training data",
        "",
        f"{metadata['training_data']['examples']} examples from `training/data/"
        f"{metadata['direction']}/` (sha256 `{metadata['training_data']['sha256'][:16]}…`), "
        "written for contact-center messaging plus attributed public data (see each file's "
        "`source` and `licence`).",
        "",
        "| intent | examples | threshold |",
        "|---|---|---|",
    ]
    for intent, count in sorted(training_counts):
        lines.append(f"| `{intent}` | {count} | {metadata['thresholds'].get(intent, 0.0):.2f} |")
    lines += ["", "## Held-out evaluation", ""]
    if evaluation is None:
        lines.append("No held-out evaluation set was found for this direction.")
    else:
        lines += [
            f"`training/eval/{metadata['direction']}/`, {evaluation.examples} messages never "
            "used for training or tuning; thresholds and fallback applied.",
            "",
            f"Accuracy **{evaluation.accuracy:.3f}**, macro F1 **{evaluation.macro_f1:.3f}**.",
            "",
            *_table(evaluation),
            "",
            f"Confusion matrix: `{CONFUSION_FILENAME}`. Most confused (true → predicted):",
            "",
        ]
        pairs = evaluation.confused_pairs(5)
        lines += [f"- `{t}` → `{p}`: {n}" for t, p, n in pairs] or ["- none"]
    lines += [
        "",
        "## Limits",
        "",
        "- English only; no conversation context (the workflow rules add it).",
        "- A bag of n-grams: negation and sarcasm far from the key words can fool it; "
        'mixed messages ("thanks! one more thing...") rely on the `other` examples.',
        "- Probabilities are calibrated on the training distribution; new channels or "
        "products shift them, so re-check thresholds with `tidal evaluate` after retraining.",
        "",
        "## Reproduce",
        "",
        f"`tidal train --direction {metadata['direction']}"
        f"{' --encoder' if metadata['features'].get('encoder') else ''}` (libraries: "
        + ", ".join(f"{k} {v}" for k, v in metadata["libraries"].items())
        + f"); created {metadata['created_at']}.",
        "",
    ]
    return "\n".join(lines)
