"""Train one direction's model and write its directory: the steps behind `tidal train`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tidal.engine.classify.model import IntentModel
from tidal.engine.core.intents import Direction
from tidal.training.dataset import Example, dataset_hash, load_directory
from tidal.training.estimator import IntentClassifier
from tidal.training.evaluation import Evaluation, evaluate_model, most_common_labels
from tidal.training.export import model_arrays, model_metadata, write_model_dir
from tidal.training.report import (
    CARD_FILENAME,
    CONFUSION_FILENAME,
    METRICS_FILENAME,
    model_card,
    write_confusion_png,
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainedModel:
    """A model directory just written, and how it scored on the held-out set."""

    path: Path
    metadata: dict[str, Any]
    evaluation: Evaluation | None


def load_eval_examples(eval_dir: Path, direction: Direction) -> list[Example]:
    """The held-out examples of one direction (`training/eval/<direction>/`), if any."""
    directory = eval_dir / direction
    if not directory.is_dir() or not any(directory.rglob("*.yaml")):
        return []
    return load_directory(directory, direction=direction)


#: Workflow actions whose wrong trigger costs most: a closed conversation, a queue jump.
COSTLY_ACTIONS = frozenset({"close", "escalate"})


def costly_intents(rules_dir: Path, direction: Direction) -> list[str]:
    """The intents of `direction` that close or escalate a conversation in `rules_dir`'s
    workflow, with the agent intents such a rule waits for (`after`): a wrong
    `offer_more_help` makes the customer's "no thanks" close the conversation.

    These are the intents the encoder stage of a cascade model always checks.
    """
    from tidal.engine.rulesio.bundle import load_engine_rules

    found: set[str] = set()
    for rule in load_engine_rules(rules_dir).workflow.rules:
        if rule.do not in COSTLY_ACTIONS:
            continue
        when = rule.when
        if when.direction in (None, direction):
            found.update(when.intents or ())
        if direction == "outbound":
            found.update(when.after or ())
    return sorted(found)


def train_direction(
    data_dir: Path,
    eval_dir: Path,
    direction: Direction,
    target: Path,
    classifier: IntentClassifier,
    progress: Progress | None = None,
) -> TrainedModel:
    """Fit `classifier` on `data_dir/<direction>`, evaluate, write `target` atomically.

    Raises `FilesInvalid` for invalid data files and `ValueError` for unusable data.
    """
    examples = load_directory(data_dir / direction, direction=direction)
    held_out = load_eval_examples(eval_dir, direction)
    texts = [e.text for e in examples]
    labels = [e.intent for e in examples]
    classifier.fit(
        texts, labels, progress=progress, tunes_thresholds=[e.tunes_thresholds for e in examples]
    )
    metadata = model_metadata(
        classifier, direction, direction, dataset_hash(examples), len(examples)
    )
    evaluation: list[Evaluation] = []

    def extras(staging: Path, final: dict[str, Any]) -> None:
        # Evaluated through the fast path loaded from the staged files: the numbers
        # describe exactly what will be served.
        model = IntentModel.load(staging)
        metrics: dict[str, Any] = {"version": final["version"], "held_out": None}
        if held_out:
            result = evaluate_model(model, [e.text for e in held_out], [e.intent for e in held_out])
            evaluation.append(result)
            metrics["held_out"] = result.to_json()
            write_confusion_png(
                result, staging / CONFUSION_FILENAME, f"{final['version']} on training/eval"
            )
        (staging / METRICS_FILENAME).write_text(json.dumps(metrics, indent=2) + "\n")
        card = model_card(final, evaluation[0] if evaluation else None, most_common_labels(labels))
        (staging / CARD_FILENAME).write_text(card, encoding="utf-8")
        if progress is not None:
            progress("evaluated and written")

    final = write_model_dir(target, model_arrays(classifier), metadata, extras)
    return TrainedModel(target, final, evaluation[0] if evaluation else None)
