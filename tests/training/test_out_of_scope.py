"""The out-of-scope test of an encoder model: chosen on validation data, kept in the
model directory, and served with the same verdicts."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from tests.classify.fakes import shipped_rules
from tests.training.shipped_data import DIRECTION, outbound_examples
from tidal.engine.classify.features import lemma_text
from tidal.engine.classify.model import IntentModel, ModelRefused
from tidal.engine.classify.normalize import normalize
from tidal.engine.classify.pipeline import Classifier
from tidal.engine.core.intents import FALLBACK_INTENT
from tidal.training.cascade import EncoderCascade
from tidal.training.estimator import IntentClassifier
from tidal.training.export import model_arrays, model_metadata, write_model_dir

PER_INTENT = 40


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[IntentClassifier, Path]:
    """A model whose encoder decides every message, its out-of-scope test tuned on the
    held-out messages (`other` standing for out of scope)."""
    texts, labels = outbound_examples("data", PER_INTENT)
    fitted = IntentClassifier(threshold_cv=3, encoder_weight=2.0, encoder_gate=1.01).fit(
        texts, labels
    )
    val_texts, val_labels = outbound_examples("eval")
    cascade = fitted.pipeline_.named_steps["classifier"]
    cascade.tune_out_of_scope(fitted.pipeline_[:-1].transform(val_texts), val_labels, "other")
    target = tmp_path_factory.mktemp("models") / DIRECTION
    metadata = model_metadata(fitted, "outbound", DIRECTION, "0" * 64, len(texts))
    write_model_dir(target, model_arrays(fitted), metadata)
    return fitted, target


def _cascade(fitted: IntentClassifier) -> EncoderCascade:
    cascade: EncoderCascade = fitted.pipeline_.named_steps["classifier"]
    return cascade


@pytest.mark.slow
def test_the_served_model_finds_the_same_messages_out_of_scope(
    trained: tuple[IntentClassifier, Path],
) -> None:
    fitted, path = trained
    served = IntentModel.load(path)
    texts, _ = outbound_examples("eval")
    expected = _cascade(fitted).predict_scoped(fitted.pipeline_[:-1].transform(texts))
    got = [served.predict_proba_cascade(lemma_text(t), normalize(t))[0][0][0] for t in texts]
    assert got == expected.tolist()
    # Both verdicts occur, so the comparison says something.
    assert "other" in got and any(label != "other" for label in got)


@pytest.mark.slow
def test_the_chosen_test_gets_at_least_as_many_validation_messages_right_as_a_probability_threshold(
    trained: tuple[IntentClassifier, Path],
) -> None:
    fitted, _ = trained
    texts, labels = outbound_examples("eval")
    features = fitted.pipeline_[:-1].transform(texts)
    chosen = _cascade(fitted)
    probability_only = copy.deepcopy(chosen).tune_out_of_scope(
        features, labels, "other", weights=(0.0,)
    )
    gold = np.asarray(labels)
    right = int((chosen.predict_scoped(features) == gold).sum())
    assert right >= int((probability_only.predict_scoped(features) == gold).sum())
    assert chosen.out_of_scope_label_ == "other"


@pytest.mark.slow
def test_a_message_out_of_scope_is_classified_as_the_fallback(
    trained: tuple[IntentClassifier, Path], tmp_path: Path
) -> None:
    _, path = trained
    copy_dir = _copy(path, tmp_path)
    metadata = json.loads((copy_dir / "metadata.json").read_text())
    # A threshold no score reaches: every message the model decides is out of scope.
    metadata["features"]["encoder"]["out_of_scope"]["threshold"] = 1e9
    (copy_dir / "metadata.json").write_text(json.dumps(metadata))
    classifier = Classifier(shipped_rules(), {DIRECTION: IntentModel.load(copy_dir)})
    texts, _ = outbound_examples("eval")
    decided = [classifier.classify(text, DIRECTION) for text in texts]
    by_model = [c for c in decided if c.source != "rule"]
    assert by_model
    assert all(c.intent == FALLBACK_INTENT for c in by_model)


@pytest.mark.slow
def test_a_model_whose_out_of_scope_label_is_unknown_is_refused(
    trained: tuple[IntentClassifier, Path], tmp_path: Path
) -> None:
    _, path = trained
    copy_dir = _copy(path, tmp_path)
    metadata = json.loads((copy_dir / "metadata.json").read_text())
    metadata["features"]["encoder"]["out_of_scope"]["label"] = "no-such-intent"
    (copy_dir / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ModelRefused, match="out-of-scope label"):
        IntentModel.load(copy_dir)


def test_tuning_needs_a_trained_out_of_scope_label() -> None:
    X = np.array([[0.0, 1, 0.1], [0, 2, 0.2], [0, 3, 0.1], [1, 0, 0.9], [2, 0, 0.8], [3, 0, 1]])
    cascade = EncoderCascade(cv=3, encoder_columns=1).fit(X, ["a", "a", "a", "b", "b", "b"])
    with pytest.raises(ValueError, match="not a trained class"):
        cascade.tune_out_of_scope(X, ["a", "a", "a", "b", "b", "b"], "oos")


def _copy(path: Path, target: Path) -> Path:
    copy_dir = target / DIRECTION
    copy_dir.mkdir()
    for name in ("model.npz", "metadata.json"):
        (copy_dir / name).write_bytes((path / name).read_bytes())
    return copy_dir


def test_the_chosen_threshold_is_the_best_of_every_candidate() -> None:
    """The counting `tune_out_of_scope` does at once equals trying each threshold."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 4))
    labels = np.array(["a", "b", "oos"])[rng.integers(0, 3, 90)]
    X[:, 0] += (labels == "a") * 2.0
    X[:, 1] += (labels == "b") * 2.0
    cascade = EncoderCascade(cv=2, encoder_columns=2).fit(X, labels)
    val = rng.normal(size=(60, 4))
    gold = np.array(["a", "b", "oos"])[rng.integers(0, 3, 60)]
    val[:, 0] += (gold == "a") * 2.0
    for weight in (0.0, 1.0):
        cascade.tune_out_of_scope(val, gold.tolist(), "oos", weights=(weight,))
        proba, scores = cascade.out_of_scope_scores(val, "oos", weight)
        tried = [
            int((cascade._scoped(proba, scores, "oos", t) == gold).sum())
            for t in np.unique(np.r_[-np.inf, scores])
        ]
        chosen = cascade.predict_scoped(val)
        assert int((chosen == gold).sum()) == max(tried)
        candidates = np.unique(np.r_[-np.inf, scores])
        best = tried.index(max(tried))
        threshold = cascade.out_of_scope_threshold_
        if best == 0:
            assert threshold == -np.inf
        else:
            # Halfway below the best candidate: it sorts the rows as the candidate does,
            # and no row sits on it, where floating-point noise could flip the verdict.
            assert candidates[best - 1] < threshold < candidates[best]
            assert threshold not in set(scores.tolist())
