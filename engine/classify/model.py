"""A trained intent model, loaded from `models/<name>/` and run without scikit-learn.

Training (`training/export.py`) precomputes everything the scikit-learn pipeline does
into plain arrays: the n-gram vocabularies with their idf weights, the linear
classifier's coefficients and the calibration (one temperature, or a Platt sigmoid per
intent); a model trained with the optional word vectors (`tidal.engine.classify.vectors`) also
keeps its projection, folded into per-token score rows at load time. Inference is then
dict look-ups and one small matrix product per message, tens of microseconds instead
of the milliseconds a `Pipeline.predict_proba` call costs.

The artifact is an `.npz` of numeric and string arrays, read with `allow_pickle=False`
so loading a model can never run code. `metadata.json` records its sha256; a model
whose file was altered, or that was made for another feature extractor or format, is
refused with `ModelRefused`.
"""

from __future__ import annotations

import hashlib
import json
import math
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tidal.engine.classify.encoder import (
    EncoderRefused,
    SentenceEncoder,
    encoder_directory,
    shared_encoder,
)
from tidal.engine.classify.features import FEATURE_VERSION, char_wb_ngrams, lemma_text, word_ngrams
from tidal.engine.classify.normalize import normalize
from tidal.engine.classify.vectors import StaticVectors, VectorsUnavailable, shared_vectors
from tidal.engine.core.intents import DIRECTIONS, Direction

#: Bump when the artifact's arrays or metadata change meaning.
FORMAT_VERSION = 2
ARTIFACT_FILENAME = "model.npz"
METADATA_FILENAME = "metadata.json"
#: The spaCy libraries decide tokens and lemmas, hence the features: a model trained
#: under another major version would see different n-grams.
CHECKED_LIBRARIES = ("spacy", "spacy-lookups-data")
CALIBRATIONS = ("temperature", "sigmoid")


class ModelRefused(Exception):
    """The model directory cannot be used by this version of Tidal; the message says why."""


def library_major(name: str) -> str:
    """The installed major version of a distribution ("3" for spaCy 3.8.2)."""
    return package_metadata.version(name).split(".")[0]


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Block:
    """One TF-IDF block: an analyzer, its vocabulary and idf, and where its columns start.

    Both analyzers work word by word (word n-grams need the neighbours, character
    n-grams do not), so a char block caches each word's known column indices: message
    words repeat a lot, and re-slicing them into n-grams is most of the cost.
    """

    _CACHE_LIMIT = 100_000

    def __init__(
        self,
        analyzer: Callable[[str], list[str]],
        vocabulary: dict[str, int],
        idf: NDArray[np.float64],
        offset: int,
        per_word: bool,
    ) -> None:
        self._analyzer = analyzer
        self._vocabulary = vocabulary
        # Indexed by absolute column, so the hot loop needs no subtraction.
        self._idf: list[float] = [0.0] * offset + idf.tolist()
        self._offset = offset
        self._per_word = per_word
        self._word_columns: dict[str, list[int]] = {}

    def _columns(self, grams: list[str]) -> list[int]:
        # Columns are absolute (block offset added) so blocks concatenate directly.
        get, offset = self._vocabulary.get, self._offset
        return [offset + i for i in map(get, grams) if i is not None]

    def _columns_of_word(self, word: str) -> list[int]:
        columns = self._word_columns.get(word)
        if columns is None:
            columns = self._columns(self._analyzer(word))
            if len(self._word_columns) < self._CACHE_LIMIT:
                self._word_columns[word] = columns
        return columns

    def add_features(self, text: str, columns: list[int], values: list[float]) -> None:
        """Append the absolute column indices and TF-IDF values of `text` in this block.

        Plain Python floats: a message has a few dozen non-zero columns, where each numpy
        call would cost more than the arithmetic it does.
        """
        if self._per_word:
            found: list[int] = []
            known = self._word_columns
            for word in text.split():
                columns_of_word = known.get(word)  # inline: a call per word costs more
                if columns_of_word is None:
                    columns_of_word = self._columns_of_word(word)
                found.extend(columns_of_word)
        else:
            found = self._columns(self._analyzer(text))
        counts = Counter(found)
        idf = self._idf
        # Sublinear tf times idf, then L2-normalised within the block, as
        # TfidfVectorizer(sublinear_tf=True) does. Most n-grams occur once (tf factor 1).
        weights = [idf[column] for column in counts]
        if len(counts) != len(found):
            for position, count in enumerate(counts.values()):
                if count > 1:
                    weights[position] *= 1.0 + math.log(count)
        norm = math.hypot(*weights)
        columns.extend(counts)
        values.extend([w / norm for w in weights] if norm > 0.0 else weights)


class _VectorBlock:
    """The word-vector columns, folded into one row of intent scores per token.

    Training projected a message's mean token vector m on principal components C
    (mean mu, scale s) and learnt coefficients B for those columns, so the block adds
    s * (m - mu) C^T B to the scores. That is linear in m: with W = s C^T B, it is the
    mean over the message's tokens of (table @ W)[token], minus mu @ W. Both are
    computed once at load time.
    """

    def __init__(
        self,
        vectors: StaticVectors,
        components: NDArray[np.float64],
        mean: NDArray[np.float64],
        scale: float,
        coef: NDArray[np.float64],
    ) -> None:
        weights = scale * (components.T @ coef)
        self._vectors = vectors
        self._token_scores = np.ascontiguousarray(vectors.table @ weights, dtype=np.float64)
        #: What the block adds for a message without tokens (m = 0); always added.
        self.offset: NDArray[np.float64] = -(mean @ weights)

    def scores(self, text: str) -> NDArray[np.float64] | None:
        """The block's scores for a lemma text, less `offset`; None if it has no tokens."""
        ids = self._vectors.token_ids(text)
        if not ids:
            return None
        mean: NDArray[np.float64] = self._token_scores[ids].mean(axis=0)
        return mean


class IntentModel:
    """Calibrated intent probabilities for one direction's messages."""

    def __init__(
        self,
        metadata: dict[str, Any],
        blocks: tuple[_Block, ...],
        coef: NDArray[np.float64],
        intercept: NDArray[np.float64],
        calibration: NDArray[np.float64],
        vectors: _VectorBlock | None = None,
        encoder: _EncoderStage | None = None,
    ) -> None:
        self.metadata = metadata
        self.version: str = metadata["version"]
        self.direction: Direction = _direction(metadata["direction"])
        self.labels: tuple[str, ...] = tuple(metadata["labels"])
        self.thresholds: dict[str, float] = {k: float(v) for k, v in metadata["thresholds"].items()}
        self.fallback: str = metadata["fallback"]
        self.calibration: str = metadata["calibration"]
        self._blocks = blocks
        self._coef = coef
        self._intercept = intercept if vectors is None else intercept + vectors.offset
        self._calibrate = _Calibration(self.calibration, calibration, len(self.labels))
        self._vectors = vectors
        #: The encoder stage of a cascade model (None: the fast model answers everything).
        self.encoder = encoder

    @classmethod
    def load(cls, path: Path | str) -> IntentModel:
        """Read and verify `path/metadata.json` and its artifact; `ModelRefused` if unusable."""
        directory = Path(path)
        metadata = _read_metadata(directory)
        artifact = directory / metadata["artifact"]["file"]
        if not artifact.is_file():
            raise ModelRefused(f"{artifact}: model artifact is missing")
        if sha256_of(artifact) != metadata["artifact"]["sha256"]:
            raise ModelRefused(
                f"{artifact}: sha256 does not match {directory / METADATA_FILENAME}; "
                "the artifact was modified after training. Retrain with `tidal train`."
            )
        try:
            with np.load(artifact, allow_pickle=False) as arrays:
                stored = {name: arrays[name] for name in arrays.files}
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise ModelRefused(f"{artifact}: not a readable model artifact ({error})") from error
        return cls._from_arrays(metadata, stored, artifact)

    @property
    def encoder_runs(self) -> int:
        """How many messages the encoder stage has decided since loading."""
        return 0 if self.encoder is None else self.encoder.runs

    @classmethod
    def _from_arrays(
        cls, metadata: dict[str, Any], arrays: dict[str, NDArray[Any]], artifact: Path
    ) -> IntentModel:
        needed = ("word_vocab", "word_idf", "char_vocab", "char_idf", "coef", "intercept")
        missing = [name for name in (*needed, "calibration") if name not in arrays]
        if missing:
            raise ModelRefused(f"{artifact}: missing arrays {', '.join(missing)}")
        features = metadata["features"]
        word_vocab = {gram: i for i, gram in enumerate(arrays["word_vocab"].tolist())}
        char_vocab = {gram: i for i, gram in enumerate(arrays["char_vocab"].tolist())}
        words = _Block(
            lambda text: word_ngrams(text, features["word_max_n"]),
            word_vocab,
            arrays["word_idf"].astype(np.float64),
            0,
            per_word=False,
        )
        chars = _Block(
            lambda text: char_wb_ngrams(text, features["char_min_n"], features["char_max_n"]),
            char_vocab,
            arrays["char_idf"].astype(np.float64),
            len(word_vocab),
            per_word=True,
        )
        coef = np.ascontiguousarray(arrays["coef"], dtype=np.float64)
        sparse_rows = len(word_vocab) + len(char_vocab)
        vectors = None
        if features.get("vectors"):
            vectors = _vector_block(features["vectors"], arrays, coef[sparse_rows:], artifact)
            coef = coef[:sparse_rows]
        if coef.shape[0] != sparse_rows:
            raise ModelRefused(f"{artifact}: coefficients do not match the vocabularies")
        encoder = None
        if features.get("encoder"):
            encoder = _encoder_stage(metadata, arrays, sparse_rows, artifact)
        return cls(
            metadata,
            (words, chars),
            coef,
            arrays["intercept"].astype(np.float64),
            arrays["calibration"].astype(np.float64),
            vectors,
            encoder,
        )

    def probabilities(self, text: str) -> NDArray[np.float64]:
        """Calibrated probabilities of a raw message, in the order of `labels`."""
        if self.encoder is not None:
            ranked = dict(self.predict_proba(text))
            return np.array([ranked[label] for label in self.labels])
        return np.array(self._probabilities_of_lemmas(lemma_text(text)))

    def _features(self, normalised: str) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        columns: list[int] = []
        values: list[float] = []
        for block in self._blocks:
            block.add_features(normalised, columns, values)
        # fromiter with a count beats np.array on a list, and an index array beats a list
        # as the gather's index, by several microseconds on long messages.
        index = np.fromiter(columns, dtype=np.intp, count=len(columns))
        weights = np.fromiter(values, dtype=np.float64, count=len(values))
        return index, weights

    def _fast_probabilities(
        self, normalised: str, index: NDArray[np.intp], weights: NDArray[np.float64]
    ) -> list[float]:
        scores = self._intercept + weights @ self._coef[index]
        if self._vectors is not None:
            vector_scores = self._vectors.scores(normalised)
            if vector_scores is not None:
                scores += vector_scores
        return self._calibrate(scores.tolist())

    def _probabilities_of_lemmas(self, normalised: str) -> list[float]:
        return self._fast_probabilities(normalised, *self._features(normalised))

    def predict_proba_cascade(
        self, lemma_text: str, text: str
    ) -> tuple[list[tuple[str, float]], bool]:
        """The cascade's probabilities of a message, and whether the encoder decided.

        `lemma_text` feeds the n-gram blocks, `text` (the normalised message) the
        encoder. Without an encoder stage, or where the fast model is sure of an intent
        that is not costly, the fast model's answer stands. A model with an
        out-of-scope test ranks its out-of-scope label first for a message the encoder
        stage finds out of scope (the probabilities are unchanged).
        """
        index, weights = self._features(lemma_text)
        proba = self._fast_probabilities(lemma_text, index, weights)
        encoder = self.encoder
        if encoder is None or not encoder.needed(proba):
            return self._ranked(proba), False
        decided, outside = encoder.verdict(text, index, weights)
        ranked = self._ranked(decided)
        if outside and encoder.out_of_scope is not None:
            # Out of scope: its label answers, whatever its probability; the others
            # keep their order as the near misses.
            label = self.labels[encoder.out_of_scope.label_index]
            ranked.sort(key=lambda pair: pair[0] != label)
        return ranked, True

    def predict_proba(self, text: str) -> list[tuple[str, float]]:
        """Every intent with its probability, highest first (text is raw); the full
        cascade when the model has an encoder stage."""
        if self.encoder is not None:
            return self.predict_proba_cascade(lemma_text(text), normalize(text))[0]
        return self._ranked(self._probabilities_of_lemmas(lemma_text(text)))

    def predict_proba_lemmas(self, lemma_text: str) -> list[tuple[str, float]]:
        """The fast model's `predict_proba` of a message given as its lemma text
        (`features.lemma_text`); the encoder stage needs the text too
        (`predict_proba_cascade`).

        The classification pipeline has already tokenized the message for the rules;
        starting from its lemmas spares a second tokenization.
        """
        return self._ranked(self._probabilities_of_lemmas(lemma_text))

    def _ranked(self, proba: list[float]) -> list[tuple[str, float]]:
        # Highest first; a stable sort keeps ties in label order.
        order = sorted(range(len(proba)), key=proba.__getitem__, reverse=True)
        labels = self.labels
        return [(labels[i], proba[i]) for i in order]

    def predict_proba_batch(self, texts: Iterable[str]) -> list[list[tuple[str, float]]]:
        """`predict_proba` of each text, in order."""
        return [self.predict_proba(text) for text in texts]

    def predict(self, text: str) -> tuple[str, float]:
        """The top intent if it reaches its threshold, else the fallback; with its probability."""
        intent, probability = self.predict_proba(text)[0]
        if probability >= self.thresholds.get(intent, 0.0):
            return intent, probability
        return self.fallback, probability


class _Calibration:
    """Replays CalibratedClassifierCV's `temperature` or `sigmoid` method.

    Plain floats: a dozen intents are cheaper in `math` than in numpy.
    """

    def __init__(self, method: str, calibration: NDArray[np.float64], n_labels: int) -> None:
        self._method = method
        self._n_labels = n_labels
        self._temperature = float(calibration[0, 0])
        self._slopes: list[float] = calibration[0].tolist()
        self._offsets: list[float] = calibration[1].tolist() if len(calibration) > 1 else []

    def __call__(self, scores: list[float]) -> list[float]:
        n_labels, exp = self._n_labels, math.exp
        if self._method == "temperature":
            # softmax(beta * logits); a binary SVM's one score s stands for (-s, s).
            logits = [-scores[0], scores[0]] if n_labels == 2 else scores
            beta = self._temperature
            scaled = [beta * logit for logit in logits]
            top = max(scaled)
            exps = [exp(x - top) for x in scaled]
            total = sum(exps)
            # Rounding noise above 1 is clipped here rather than in a second pass.
            return [1.0 if 1.0 < (p := e / total) <= 1.0 + 1e-5 else p for e in exps]
        # Platt scaling per class, p = 1 / (1 + exp(a * score + b)), then normalised.
        sigmoid = [
            _sigmoid(a * score + b)
            for a, b, score in zip(self._slopes, self._offsets, scores, strict=True)
        ]
        if n_labels == 2:
            proba = [1.0 - sigmoid[0], sigmoid[0]]
        else:
            total = sum(sigmoid)
            proba = [p / total for p in sigmoid] if total != 0.0 else [1.0 / n_labels] * n_labels
        return [1.0 if 1.0 < p <= 1.0 + 1e-5 else p for p in proba]


class _EncoderStage:
    """The cascade's second model: n-gram columns plus the sentence encoder's.

    It answers where the fast model's top probability is below `gate`, or where the fast
    model gives an intent the encoder always checks (`confirm`: the costly ones)
    `confirm_floor` or more (`tidal.training.cascade` says why). Its coefficients are the
    fast SVM's n-gram rows and the embedding rows of a logistic regression, weighted.
    """

    def __init__(
        self,
        encoder: SentenceEncoder,
        coef: NDArray[np.float64],
        intercept: NDArray[np.float64],
        calibrate: _Calibration,
        settings: dict[str, Any],
        labels: Sequence[str],
        out_of_scope: _OutOfScope | None = None,
    ) -> None:
        self._encoder = encoder
        dimensions = encoder.dimensions
        self._sparse_coef = np.ascontiguousarray(coef[:-dimensions])
        self._dense_coef = np.ascontiguousarray(coef[-dimensions:])
        self._intercept = intercept
        self._calibrate = calibrate
        self.gate = float(settings["gate"])
        confirm = set(settings.get("confirm", ()))
        self._confirm = [i for i, label in enumerate(labels) if label in confirm]
        self._confirm_floor = float(settings.get("confirm_floor", 0.05))
        #: Messages this stage decided (the encoder's share is runs / messages).
        self.runs = 0
        self.out_of_scope = out_of_scope

    def verdict(
        self, text: str, index: NDArray[np.intp], weights: NDArray[np.float64]
    ) -> tuple[list[float], bool]:
        """The encoder model's probabilities, and whether it finds the message out of scope."""
        self.runs += 1
        embedding = self._encoder.embed_one(text).astype(np.float64)
        scores = self._intercept + weights @ self._sparse_coef[index] + embedding @ self._dense_coef
        proba = self._calibrate(scores.tolist())
        outside = self.out_of_scope is not None and self.out_of_scope.outside(proba, embedding)
        return proba, outside

    def needed(self, fast_proba: list[float]) -> bool:
        """Whether the fast model's answer must be checked by the encoder."""
        if max(fast_proba) < self.gate:
            return True
        floor = self._confirm_floor
        return any(fast_proba[i] >= floor for i in self._confirm)

    def probabilities(
        self, text: str, index: NDArray[np.intp], weights: NDArray[np.float64]
    ) -> list[float]:
        return self.verdict(text, index, weights)[0]


class _OutOfScope:
    """The encoder model's out-of-scope test (`tidal.training.cascade.tune_out_of_scope`).

    A message is out of scope when the out-of-scope label is the most probable, or when
    log(top in-scope probability) + weight x (cosine similarity of its embedding to the
    nearest in-scope centroid) is below the threshold chosen on validation data.
    """

    def __init__(
        self, label_index: int, centroids: NDArray[np.float64], weight: float, threshold: float
    ) -> None:
        self.label_index = label_index
        self._centroids = np.ascontiguousarray(centroids, dtype=np.float64)
        self._weight = weight
        self._threshold = threshold

    def outside(self, proba: list[float], embedding: NDArray[np.float64]) -> bool:
        label = self.label_index
        top = max(p for i, p in enumerate(proba) if i != label)
        if proba[label] > top:
            return True
        similarity = float((self._centroids @ embedding).max())
        score = math.log(max(top, 1e-300)) + self._weight * similarity
        return score < self._threshold


def _encoder_stage(
    metadata: dict[str, Any], arrays: dict[str, NDArray[Any]], sparse_rows: int, artifact: Path
) -> _EncoderStage:
    settings = metadata["features"]["encoder"]
    missing = [
        name
        for name in ("encoder_coef", "encoder_intercept", "encoder_calibration")
        if name not in arrays
    ]
    if missing:
        raise ModelRefused(f"{artifact}: missing arrays {', '.join(missing)}")
    try:
        encoder = shared_encoder(encoder_directory(artifact.parent))
    except EncoderRefused as error:
        raise ModelRefused(f"{artifact}: {error}") from error
    if encoder.sha256 != settings.get("sha256"):
        raise ModelRefused(
            f"{artifact}: trained with another sentence encoder than the one in "
            f"{encoder_directory(artifact.parent)}; retrain with `tidal train --encoder`"
        )
    coef = arrays["encoder_coef"].astype(np.float64)
    if coef.shape[0] != sparse_rows + encoder.dimensions:
        raise ModelRefused(f"{artifact}: encoder coefficients do not match the vocabularies")
    labels = metadata["labels"]
    calibrate = _Calibration(
        metadata["calibration"], arrays["encoder_calibration"].astype(np.float64), len(labels)
    )
    return _EncoderStage(
        encoder,
        coef,
        arrays["encoder_intercept"].astype(np.float64),
        calibrate,
        settings,
        labels,
        _out_of_scope(settings.get("out_of_scope"), arrays, labels, encoder.dimensions, artifact),
    )


def _out_of_scope(
    described: dict[str, Any] | None,
    arrays: dict[str, NDArray[Any]],
    labels: Sequence[str],
    dimensions: int,
    artifact: Path,
) -> _OutOfScope | None:
    if described is None:
        return None
    if "encoder_centroids" not in arrays:
        raise ModelRefused(f"{artifact}: missing arrays encoder_centroids")
    label = described.get("label")
    if label not in labels:
        raise ModelRefused(f"{artifact}: out-of-scope label {label!r} is not one of the labels")
    centroids = arrays["encoder_centroids"].astype(np.float64)
    if centroids.shape != (len(labels) - 1, dimensions):
        raise ModelRefused(f"{artifact}: encoder centroids do not match the labels")
    return _OutOfScope(
        list(labels).index(str(label)),
        centroids,
        float(described["weight"]),
        float(described["threshold"]),
    )


def _sigmoid(x: float) -> float:
    """1 / (1 + e^x), without math.exp's OverflowError for large x (numpy gives 0 there)."""
    return 0.0 if x > 709.0 else 1.0 / (1.0 + math.exp(x))


def _vector_block(
    described: dict[str, Any],
    arrays: dict[str, NDArray[Any]],
    coef: NDArray[np.float64],
    artifact: Path,
) -> _VectorBlock:
    missing = [
        name for name in ("vector_components", "vector_mean", "vector_scale") if name not in arrays
    ]
    if missing:
        raise ModelRefused(f"{artifact}: missing arrays {', '.join(missing)}")
    try:
        vectors = shared_vectors()
    except VectorsUnavailable as error:
        raise ModelRefused(f"{artifact}: {error}") from error
    if vectors.sha256 != described.get("table_sha256"):
        raise ModelRefused(
            f"{artifact}: trained with another word-vector table than the installed "
            f"{described.get('package', 'package')} provides; retrain with `tidal train`"
        )
    components = arrays["vector_components"].astype(np.float64)
    if components.shape != (coef.shape[0], vectors.dimensions):
        raise ModelRefused(f"{artifact}: word-vector arrays do not match the coefficients")
    return _VectorBlock(
        vectors,
        components,
        arrays["vector_mean"].astype(np.float64),
        float(arrays["vector_scale"][0]),
        coef,
    )


def _direction(value: object) -> Direction:
    for direction in DIRECTIONS:
        if value == direction:
            return direction
    raise ModelRefused(f"unknown model direction {value!r} (expected inbound or outbound)")


def _read_metadata(directory: Path) -> dict[str, Any]:
    path = directory / METADATA_FILENAME
    if not path.is_file():
        raise ModelRefused(f"{path}: model metadata is missing (is {directory} a model?)")
    try:
        metadata: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelRefused(f"{path}: unreadable metadata ({error})") from error
    _check_compatible(path, metadata)
    return metadata


def _check_compatible(path: Path, metadata: dict[str, Any]) -> None:
    expected = {"format_version": FORMAT_VERSION, "feature_version": FEATURE_VERSION}
    for key, value in expected.items():
        if metadata.get(key) != value:
            raise ModelRefused(
                f"{path}: {key} is {metadata.get(key)!r} but this Tidal reads {value}; "
                "retrain the model with `tidal train`"
            )
    required: Sequence[str] = (
        "version",
        "direction",
        "labels",
        "thresholds",
        "fallback",
        "features",
        "artifact",
        "calibration",
    )
    absent = [key for key in required if key not in metadata]
    if absent:
        raise ModelRefused(f"{path}: metadata lacks {', '.join(absent)}")
    if metadata["calibration"] not in CALIBRATIONS:
        raise ModelRefused(
            f"{path}: unknown calibration {metadata['calibration']!r} "
            f"(this Tidal replays {', '.join(CALIBRATIONS)})"
        )
    libraries = metadata.get("libraries", {})
    for name in CHECKED_LIBRARIES:
        trained = str(libraries.get(name, "?")).split(".")[0]
        running = library_major(name)
        if trained != running:
            raise ModelRefused(
                f"{path}: trained with {name} {libraries.get(name)!r} but {name} "
                f"{package_metadata.version(name)} is installed (major versions differ); "
                "retrain the model with `tidal train`"
            )
