"""A cascade model (n-grams, then the sentence encoder) as trained and as served."""

from __future__ import annotations

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
from tidal.training.estimator import IntentClassifier
from tidal.training.export import model_arrays, model_metadata, write_model_dir

COSTLY = ("closing", "offer_more_help")
PER_INTENT = 40


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[IntentClassifier, Path]:
    texts, labels = outbound_examples("data", PER_INTENT)
    fitted = IntentClassifier(
        threshold_cv=3, encoder_weight=2.0, encoder_gate=0.9, encoder_confirm=COSTLY
    ).fit(texts, labels)
    target = tmp_path_factory.mktemp("models") / DIRECTION
    metadata = model_metadata(fitted, "outbound", DIRECTION, "0" * 64, len(texts))
    write_model_dir(target, model_arrays(fitted), metadata)
    return fitted, target


def _held_out() -> list[str]:
    texts, _ = outbound_examples("eval")
    return texts


@pytest.mark.slow
def test_served_cascade_gives_the_trained_pipelines_probabilities(
    trained: tuple[IntentClassifier, Path],
) -> None:
    fitted, path = trained
    served = IntentModel.load(path)
    texts = _held_out()
    expected = fitted.predict_proba(texts)
    got = np.array([served.probabilities(text) for text in texts])
    assert np.abs(expected - got).max() < 1e-6


@pytest.mark.slow
def test_the_encoder_runs_only_where_the_fast_model_is_unsure_or_sees_a_costly_intent(
    trained: tuple[IntentClassifier, Path],
) -> None:
    fitted, path = trained
    served = IntentModel.load(path)
    cascade = fitted.pipeline_.named_steps["classifier"]
    costly = np.isin(cascade.classes_, COSTLY)
    ran = {False: 0, True: 0}
    for text in _held_out():
        before = served.encoder_runs
        _, encoded = served.predict_proba_cascade(lemma_text(text), normalize(text))
        fast = dict(served.predict_proba_lemmas(lemma_text(text)))
        fast_proba = np.array([fast[label] for label in cascade.classes_])
        sure = fast_proba.max() >= 0.9 and fast_proba[costly].max() < 0.05
        assert encoded == (not sure), text
        assert served.encoder_runs == before + int(encoded)
        ran[encoded] += 1
    # Both paths were exercised by the held-out set.
    assert ran[True] > 0 and ran[False] > 0


@pytest.mark.slow
def test_a_classification_by_the_encoder_stage_says_so(
    trained: tuple[IntentClassifier, Path],
) -> None:
    _, path = trained
    classifier = Classifier(shipped_rules(), {DIRECTION: IntentModel.load(path)})
    sources = {classifier.classify(text, DIRECTION).source for text in _held_out()}
    assert {"rule", "model", "encoder"} <= sources


@pytest.mark.slow
def test_a_model_trained_with_another_encoder_is_refused(
    trained: tuple[IntentClassifier, Path], tmp_path: Path
) -> None:
    _, path = trained
    copy = tmp_path / DIRECTION
    copy.mkdir()
    for name in ("model.npz", "metadata.json"):
        (copy / name).write_bytes((path / name).read_bytes())
    metadata = json.loads((copy / "metadata.json").read_text())
    metadata["features"]["encoder"]["sha256"] = "0" * 64
    (copy / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ModelRefused, match="another sentence encoder"):
        IntentModel.load(copy)


def test_the_encoder_and_word_vectors_cannot_be_combined() -> None:
    from tidal.training.estimator import build_pipeline

    with pytest.raises(ValueError, match="cannot be combined"):
        build_pipeline(encoder_weight=1.0, vector_components=16)
