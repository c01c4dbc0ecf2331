"""The safe artifact: overfit, save, load, same predictions; tampering is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.training.tiny_data import GREETINGS, OTHER, THANKS
from tidal.engine.classify.model import (
    ARTIFACT_FILENAME,
    METADATA_FILENAME,
    IntentModel,
    ModelRefused,
)
from tidal.training.estimator import IntentClassifier
from tidal.training.export import model_arrays, model_metadata, write_model_dir


@pytest.fixture(scope="module")
def fitted() -> IntentClassifier:
    texts = GREETINGS + THANKS + OTHER
    labels = ["greeting"] * 10 + ["gratitude"] * 10 + ["other"] * 10
    return IntentClassifier(C=10.0, threshold_cv=3).fit(texts, labels)


def _save(model: IntentClassifier, target: Path) -> dict[str, Any]:
    metadata = model_metadata(model, "inbound", "inbound", "0" * 64, 30)
    return write_model_dir(target, model_arrays(model), metadata)


def test_overfitted_model_round_trips_with_identical_predictions(
    fitted: IntentClassifier, tmp_path: Path
) -> None:
    texts = [*GREETINGS, *THANKS, *OTHER, "Hello!!", "thanks 🙏", "", "   ", "zzz qqq"]
    metadata = _save(fitted, tmp_path / "inbound")
    loaded = IntentModel.load(tmp_path / "inbound")

    expected = fitted.predict_proba(texts)
    got = np.array([loaded.probabilities(text) for text in texts])
    assert np.abs(expected - got).max() < 1e-9
    assert loaded.labels == tuple(fitted.classes_)
    assert loaded.version == metadata["version"]
    assert loaded.thresholds == fitted.thresholds_
    # The tiny set is learnt by heart.
    train = [*GREETINGS, *THANKS, *OTHER]
    assert [loaded.predict_proba(t)[0][0] for t in train] == list(fitted.predict(train))


@pytest.mark.parametrize("calibration", ["temperature", "sigmoid"])
@pytest.mark.parametrize("intents", [2, 3])
def test_every_calibration_replays_exactly_for_binary_and_multiclass(
    calibration: str, intents: int, tmp_path: Path
) -> None:
    groups = [GREETINGS, THANKS, OTHER][:intents]
    names = ["greeting", "gratitude", "other"][:intents]
    texts = [text for group in groups for text in group]
    labels = [name for name, group in zip(names, groups, strict=True) for _ in group]
    fitted = IntentClassifier(calibration=calibration, threshold_cv=3).fit(texts, labels)
    _save(fitted, tmp_path / "m")
    loaded = IntentModel.load(tmp_path / "m")
    probe = [*texts, "hello!! thanks", "where is my card"]
    got = np.array([loaded.probabilities(text) for text in probe])
    assert np.abs(fitted.predict_proba(probe) - got).max() < 1e-9


def test_predict_proba_is_sorted_and_batch_agrees(fitted: IntentClassifier, tmp_path: Path) -> None:
    _save(fitted, tmp_path / "m")
    model = IntentModel.load(tmp_path / "m")
    ranked = model.predict_proba("hello there")
    assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)
    assert ranked[0][0] == "greeting"
    assert model.predict_proba_batch(["hello there", "thanks"]) == [
        ranked,
        model.predict_proba("thanks"),
    ]


def test_tampered_artifact_is_refused(fitted: IntentClassifier, tmp_path: Path) -> None:
    _save(fitted, tmp_path / "m")
    artifact = tmp_path / "m" / ARTIFACT_FILENAME
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    with pytest.raises(ModelRefused, match="sha256 does not match"):
        IntentModel.load(tmp_path / "m")


def test_missing_artifact_is_refused(fitted: IntentClassifier, tmp_path: Path) -> None:
    _save(fitted, tmp_path / "m")
    (tmp_path / "m" / ARTIFACT_FILENAME).unlink()
    with pytest.raises(ModelRefused, match="missing"):
        IntentModel.load(tmp_path / "m")


def test_directory_without_metadata_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelRefused, match="metadata is missing"):
        IntentModel.load(tmp_path)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("feature_version", 999, "feature_version"),
        ("format_version", 0, "format_version"),
        ("libraries", {"spacy": "2.3.0", "spacy-lookups-data": "1.0.5"}, "spacy"),
    ],
)
def test_metadata_from_other_code_is_refused(
    fitted: IntentClassifier, tmp_path: Path, key: str, value: object, message: str
) -> None:
    _save(fitted, tmp_path / "m")
    path = tmp_path / "m" / METADATA_FILENAME
    metadata = json.loads(path.read_text())
    metadata[key] = value
    path.write_text(json.dumps(metadata))
    with pytest.raises(ModelRefused, match=message):
        IntentModel.load(tmp_path / "m")


def test_rewriting_a_model_replaces_it_whole(fitted: IntentClassifier, tmp_path: Path) -> None:
    target = tmp_path / "m"
    _save(fitted, target)
    (target / "stale.txt").write_text("from the old model")
    _save(fitted, target)
    assert not (target / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_failed_write_leaves_the_old_model_untouched(
    fitted: IntentClassifier, tmp_path: Path
) -> None:
    target = tmp_path / "m"
    before = _save(fitted, target)

    def broken_extras(staging: Path, metadata: dict[str, Any]) -> None:
        raise RuntimeError("disk full")

    metadata = model_metadata(fitted, "inbound", "inbound", "1" * 64, 30)
    with pytest.raises(RuntimeError):
        write_model_dir(target, model_arrays(fitted), metadata, broken_extras)
    assert IntentModel.load(target).version == before["version"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_artifact_loads_without_pickle(fitted: IntentClassifier, tmp_path: Path) -> None:
    _save(fitted, tmp_path / "m")
    with np.load(tmp_path / "m" / ARTIFACT_FILENAME, allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)


def test_version_changes_with_thresholds_but_not_with_the_clock(
    fitted: IntentClassifier, tmp_path: Path
) -> None:
    arrays = model_arrays(fitted)
    metadata = model_metadata(fitted, "inbound", "inbound", "0" * 64, 30)
    first = write_model_dir(tmp_path / "a", arrays, metadata)
    later = write_model_dir(
        tmp_path / "b", arrays, {**metadata, "created_at": metadata["created_at"][:10] + "T23:59Z"}
    )
    stricter = write_model_dir(
        tmp_path / "c", arrays, {**metadata, "thresholds": {"greeting": 0.99}}
    )
    assert first["version"] == later["version"]
    assert first["version"] != stricter["version"]
