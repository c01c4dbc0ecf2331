"""The optional word-vector block: round trip, refusals, and `tidal train --vectors`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.training.test_cli import _train
from tests.training.tiny_data import GREETINGS, OTHER, THANKS
from tidal.engine.classify import model as model_module
from tidal.engine.classify.model import METADATA_FILENAME, IntentModel, ModelRefused
from tidal.engine.classify.vectors import VectorsUnavailable, shared_vectors
from tidal.training.estimator import IntentClassifier
from tidal.training.export import model_arrays, model_metadata, write_model_dir

TEXTS = GREETINGS + THANKS + OTHER
LABELS = ["greeting"] * len(GREETINGS) + ["gratitude"] * len(THANKS) + ["other"] * len(OTHER)


@pytest.fixture(scope="module")
def fitted() -> IntentClassifier:
    return IntentClassifier(threshold_cv=3, vector_components=8, vector_weight=1.5).fit(
        TEXTS, LABELS
    )


def _save(model: IntentClassifier, target: Path) -> None:
    metadata = model_metadata(model, "inbound", "inbound", "0" * 64, len(TEXTS))
    write_model_dir(target, model_arrays(model), metadata)


def test_words_split_alone_give_the_tokens_of_the_whole_text() -> None:
    vectors = shared_vectors()
    text = "i lose my debit card yesterday , can you block it ?"
    assert vectors.token_ids(text) == [i for word in text.split() for i in vectors.token_ids(word)]
    assert vectors.mean_matrix(["", "   "]).tolist() == [[0.0] * vectors.dimensions] * 2


def test_a_model_with_vectors_round_trips(fitted: IntentClassifier, tmp_path: Path) -> None:
    _save(fitted, tmp_path / "m")
    loaded = IntentModel.load(tmp_path / "m")
    texts = [*TEXTS, "", "zzz qqq", "Thanks a lot!!", "hello 👋"]
    expected = fitted.predict_proba(texts)
    got = np.array([loaded.probabilities(text) for text in texts])
    assert np.abs(expected - got).max() < 1e-9
    described = loaded.metadata["features"]["vectors"]
    assert described["components"] == 8
    assert described["table_sha256"] == shared_vectors().sha256


def test_a_model_made_with_another_table_is_refused(
    fitted: IntentClassifier, tmp_path: Path
) -> None:
    _save(fitted, tmp_path / "m")
    path = tmp_path / "m" / METADATA_FILENAME
    metadata = json.loads(path.read_text())
    metadata["features"]["vectors"]["table_sha256"] = "0" * 64
    path.write_text(json.dumps(metadata))
    with pytest.raises(ModelRefused, match="another word-vector table"):
        IntentModel.load(tmp_path / "m")


def test_a_model_with_vectors_is_refused_without_the_package(
    fitted: IntentClassifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _save(fitted, tmp_path / "m")

    def missing() -> None:
        raise VectorsUnavailable("not installed: pip install 'tidal[vectors]'")

    monkeypatch.setattr(model_module, "shared_vectors", missing)
    with pytest.raises(ModelRefused, match=r"tidal\[vectors\]"):
        IntentModel.load(tmp_path / "m")


def test_train_with_vectors_writes_a_model_that_uses_them(data_tree: Path) -> None:
    code, output = _train(data_tree, "--vectors", "8", "--vector-weight", "1.5")
    assert code == 0, output
    loaded = IntentModel.load(data_tree / "models" / "inbound-candidate")
    assert loaded.metadata["features"]["vectors"]["components"] == 8
    assert loaded.predict("good morning!")[0] == "greeting"
