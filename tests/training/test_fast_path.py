"""The numpy fast path computes what the scikit-learn pipeline computes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tidal.engine.classify.model import IntentModel
from tidal.engine.core.intents import Direction
from tidal.training.dataset import load_directory
from tidal.training.estimator import IntentClassifier
from tidal.training.export import model_arrays, model_metadata, write_model_dir
from tidal.training.thresholds import apply_thresholds

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("vector_components", [0, 32], ids=["tfidf", "tfidf+vectors"])
@pytest.mark.parametrize("direction", ["inbound", "outbound"])
def test_fast_path_matches_sklearn_on_the_evaluation_set(
    direction: Direction, vector_components: int, tmp_path: Path
) -> None:
    train = load_directory(ROOT / "training" / "data" / direction, direction=direction)
    held_out = load_directory(ROOT / "training" / "eval" / direction, direction=direction)
    fitted = IntentClassifier(vector_components=vector_components, vector_weight=1.5).fit(
        [e.text for e in train], [e.intent for e in train]
    )
    metadata = model_metadata(fitted, direction, direction, "0" * 64, len(train))
    write_model_dir(tmp_path / direction, model_arrays(fitted), metadata)
    fast = IntentModel.load(tmp_path / direction)

    texts = [e.text for e in held_out]
    expected = fitted.predict_proba(texts)
    got = np.array([fast.probabilities(text) for text in texts])
    assert np.abs(expected - got).max() < 1e-6
    sklearn_labels = apply_thresholds(expected, fast.labels, fast.thresholds, fast.fallback)
    assert [fast.predict(text)[0] for text in texts] == sklearn_labels
    assert sklearn_labels == list(fitted.predict(texts))


def test_the_lemma_entry_point_gives_the_same_probabilities_as_raw_text() -> None:
    from tidal.engine.classify.features import lemma_text

    model = IntentModel.load(Path(__file__).resolve().parents[2] / "models" / "inbound")
    for text in ["No, that's all, thanks!", "my card is BLOCKED 😡", "brb", "I'm in a meeting"]:
        assert model.predict_proba_lemmas(lemma_text(text)) == model.predict_proba(text)
