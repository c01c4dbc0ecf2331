"""Turn a fitted `IntentClassifier` into the safe artifact `IntentModel` loads.

The scikit-learn objects never leave training: their learned numbers are copied into
plain arrays (`model.npz`, no pickle) and `metadata.json`. A model directory is written
into a temporary sibling and renamed into place, so a reader sees the old model or the
new one, never half of either.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tidal.engine.classify.features import FEATURE_VERSION
from tidal.engine.classify.model import (
    ARTIFACT_FILENAME,
    FORMAT_VERSION,
    METADATA_FILENAME,
    sha256_of,
)
from tidal.training.calibrated_svc import CalibratedLinearSVC
from tidal.training.cascade import EncoderCascade
from tidal.training.estimator import IntentClassifier, feature_blocks
from tidal.training.thresholds import ESCALATION_BETAS

LIBRARIES = ("scikit-learn", "spacy", "spacy-lookups-data", "numpy", "scipy")


def _calibration_array(
    classifier: CalibratedLinearSVC | EncoderCascade, method: str
) -> NDArray[np.float64]:
    calibrators = classifier.calibrators_
    if method == "sigmoid":
        # Row 0: slopes, row 1: intercepts of each intent's Platt sigmoid.
        return np.array(
            [[c.a_ for c in calibrators], [c.b_ for c in calibrators]],
            dtype=np.float64,
        )
    return np.array([[float(calibrators[0].beta_)]], dtype=np.float64)


def model_arrays(model: IntentClassifier) -> dict[str, NDArray[Any]]:
    """The learned numbers of a fitted classifier, as arrays the fast path reads."""
    pipeline = model.pipeline_
    blocks = feature_blocks(pipeline)
    words, chars = blocks["words"], blocks["chars"]
    classifier = pipeline.named_steps["classifier"]
    cascade = classifier if isinstance(classifier, EncoderCascade) else None
    fast: CalibratedLinearSVC = cascade.fast_ if cascade is not None else classifier
    svm = fast.svm_
    word_vocab = sorted(words.vocabulary_, key=words.vocabulary_.__getitem__)
    char_vocab = sorted(chars.vocabulary_, key=chars.vocabulary_.__getitem__)
    arrays = {
        "word_vocab": np.array(word_vocab, dtype=np.str_),
        "word_idf": np.asarray(words.idf_, dtype=np.float64),
        "char_vocab": np.array(char_vocab, dtype=np.str_),
        "char_idf": np.asarray(chars.idf_, dtype=np.float64),
        # Rows are features so one message's few columns are a cheap row gather.
        "coef": np.ascontiguousarray(svm.coef_.T, dtype=np.float64),
        "intercept": np.asarray(svm.intercept_, dtype=np.float64),
        "calibration": _calibration_array(fast, model.calibration),
    }
    if "vectors" in blocks:
        # The last coefficient rows belong to these columns, in the same order.
        vectors = blocks["vectors"]
        arrays["vector_components"] = np.asarray(vectors.pca_.components_, dtype=np.float64)
        arrays["vector_mean"] = np.asarray(vectors.pca_.mean_, dtype=np.float64)
        arrays["vector_scale"] = np.array([vectors.scale_], dtype=np.float64)
    if cascade is not None:
        # The encoder model: rows for the same n-gram columns, then the encoder's.
        arrays["encoder_coef"] = np.ascontiguousarray(cascade.coef_, dtype=np.float64)
        arrays["encoder_intercept"] = np.asarray(cascade.intercept_, dtype=np.float64)
        arrays["encoder_calibration"] = _calibration_array(cascade, model.calibration)
        if hasattr(cascade, "out_of_scope_threshold_"):
            # The in-scope intents' centroids, in label order (`tune_out_of_scope`).
            in_scope = cascade.classes_ != cascade.out_of_scope_label_
            arrays["encoder_centroids"] = np.ascontiguousarray(
                cascade.centroids_[in_scope], dtype=np.float64
            )
    return arrays


def encoder_metadata(model: IntentClassifier) -> dict[str, Any] | None:
    """What a model with an encoder stage needs at load time, or None."""
    if model.encoder_weight <= 0.0:
        return None
    from tidal.engine.classify.encoder import shared_encoder

    fitted = feature_blocks(model.pipeline_)["encoder"]
    cascade = model.pipeline_.named_steps["classifier"]
    return {
        "name": shared_encoder().name,
        "sha256": fitted.encoder_sha256_,
        "dimensions": fitted.dimensions_,
        "weight": model.encoder_weight,
        "gate": cascade.gate,
        "confirm": sorted(cascade.confirm),
        "confirm_floor": cascade.confirm_floor,
        "C": cascade.encoder_C,
        "head": "multinomial logistic regression on the embedding, logits added to the SVM's",
        "out_of_scope": _out_of_scope_metadata(cascade),
    }


def _out_of_scope_metadata(cascade: EncoderCascade) -> dict[str, Any] | None:
    """The out-of-scope test chosen on validation data, or None (never tuned)."""
    if not hasattr(cascade, "out_of_scope_threshold_"):
        return None
    return {
        "label": cascade.out_of_scope_label_,
        "weight": cascade.out_of_scope_weight_,
        "threshold": cascade.out_of_scope_threshold_,
        "score": "log top in-scope probability + weight x cosine to the nearest in-scope "
        "centroid (encoder_centroids); below threshold, or the label most probable: out of scope",
    }


def vector_metadata(model: IntentClassifier) -> dict[str, Any] | None:
    """What a model with a word-vector block needs at load time, or None."""
    if model.vector_components <= 0:
        return None
    from tidal.engine.classify import vectors

    fitted = feature_blocks(model.pipeline_)["vectors"]
    return {
        "name": vectors.NAME,
        "package": f"{vectors.PACKAGE} {vectors.package_version()}",
        "table_sha256": fitted.vectors_sha256_,
        "components": int(fitted.pca_.n_components_),
        "weight": model.vector_weight,
    }


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shaped the model."""
    versions = {name: package_metadata.version(name) for name in LIBRARIES}
    versions["python"] = platform.python_version()
    return versions


def model_metadata(
    model: IntentClassifier,
    name: str,
    direction: str,
    data_hash: str,
    examples: int,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """Everything but the artifact digest and version, which `write_model_dir` adds."""
    created = (created_at or datetime.now(UTC)).astimezone(UTC)
    return {
        "format_version": FORMAT_VERSION,
        "feature_version": FEATURE_VERSION,
        "name": name,
        "direction": direction,
        "labels": [str(label) for label in model.classes_],
        "thresholds": model.thresholds_,
        "fallback": model.fallback,
        "calibration": model.calibration,
        "features": {
            "normalizer": "NFKC + spaCy English tokenizer + lookup lemmas, lower-cased",
            "word_max_n": model.word_max_n,
            "char_min_n": model.char_min_n,
            "char_max_n": model.char_max_n,
            "tfidf": "sublinear tf, smooth idf, L2 per block",
            "vectors": vector_metadata(model),
            "encoder": encoder_metadata(model),
        },
        "classifier": {
            "type": "LinearSVC (one-vs-rest, squared hinge)",
            "C": model.C,
            "calibration": f"{model.calibration}, {model.calibration_cv}-fold, ensemble=False",
            "thresholds": (
                f"F{model.threshold_beta} (F1 for {', '.join(sorted(ESCALATION_BETAS))}) "
                f"on {model.threshold_cv}-fold out-of-fold"
            ),
        },
        "libraries": library_versions(),
        "training_data": {"sha256": data_hash, "examples": examples},
        "created_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


def write_model_dir(
    target: Path,
    arrays: dict[str, NDArray[Any]],
    metadata: dict[str, Any],
    extras: Callable[[Path, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Write artifact, metadata and `extras(tmpdir, metadata)` files; swap into `target`.

    Returns the final metadata (with `version` and the artifact's sha256).
    """
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        artifact = staging / ARTIFACT_FILENAME
        np.savez_compressed(artifact, **arrays)  # type: ignore[arg-type]
        digest = sha256_of(artifact)
        day = str(metadata["created_at"])[:10]
        final = {
            **metadata,
            "version": f"{metadata['name']}-{day}-{_fingerprint(metadata, digest)}",
            "artifact": {"file": ARTIFACT_FILENAME, "sha256": digest},
        }
        (staging / METADATA_FILENAME).write_text(
            json.dumps(final, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        if extras is not None:
            extras(staging, final)
        os.chmod(staging, 0o755)
        swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def _fingerprint(metadata: dict[str, Any], artifact_sha256: str) -> str:
    """Seven hex digits that change with the arrays or anything that shapes predictions.

    The thresholds live in the metadata, not the artifact, so the artifact digest alone
    would give two differently thresholded models the same version.
    """
    content = {k: v for k, v in metadata.items() if k != "created_at"}
    content["artifact_sha256"] = artifact_sha256
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()[:7]


def swap_into_place(staging: Path, target: Path) -> None:
    # rename() cannot replace a non-empty directory, so the old model is first renamed
    # aside (atomic), the new one renamed in (atomic), then the old one deleted.
    if not target.exists():
        staging.rename(target)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
    retired.rmdir()
    target.rename(retired)
    try:
        staging.rename(target)
    except BaseException:
        retired.rename(target)
        raise
    shutil.rmtree(retired, ignore_errors=True)
