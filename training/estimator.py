"""Tidal's intent classifier as a scikit-learn estimator.

    raw text -> SpacyNormalizer (lemmas) -> TF-IDF word 1-2 grams + char_wb 2-5 grams
    (sublinear tf, each block L2-normalised) -> LinearSVC -> temperature calibration
    -> per-intent thresholds -> fallback to `other`

Why these choices is measured in `training/README.md` (`python -m tidal.training.model_search`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted

from tidal.engine.classify.features import char_wb_ngrams, word_ngrams
from tidal.engine.core.intents import FALLBACK_INTENT
from tidal.training.calibrated_svc import CalibratedLinearSVC
from tidal.training.normalizer import SpacyNormalizer
from tidal.training.thresholds import apply_thresholds, tune_thresholds

CALIBRATIONS = ("temperature", "sigmoid")

#: Fewer examples than this cannot be split for calibration inside threshold folds.
MIN_EXAMPLES_PER_INTENT = 4


def _rarest(labels: Sequence[str]) -> int:
    _, counts = np.unique(np.asarray(labels), return_counts=True)
    return int(counts.min())


def _folds(labels: Sequence[str], wanted: int) -> int:
    """As many folds as asked, but no more than the rarest intent has examples."""
    return max(2, min(wanted, _rarest(labels)))


def build_pipeline(
    C: float = 1.0,
    word_max_n: int = 2,
    char_min_n: int = 2,
    char_max_n: int = 5,
    calibration_cv: int = 2,
    random_state: int = 0,
    labels: Sequence[str] | None = None,
    calibration: str = "temperature",
    n_jobs: int | None = None,
    vector_components: int = 0,
    vector_weight: float = 1.0,
    encoder_weight: float = 0.0,
    encoder_gate: float = 0.9,
    encoder_confirm: Sequence[str] = (),
    encoder_C: float = 10.0,
    encoder_confirm_floor: float = 0.05,
) -> Pipeline:
    """The unfitted scikit-learn pipeline from raw text to calibrated probabilities.

    `labels` (the training labels) lets the calibration folds shrink for tiny data sets.
    `calibration` is "temperature" (one inverse temperature for all intents) or
    "sigmoid" (Platt scaling per intent); both are what the fast path can replay.
    `n_jobs` threads fit the final SVM and the calibration folds side by side (same
    result, less wall time).
    `vector_components` > 0 adds a block of static word vectors (`tidal.training.vectors`,
    needs `tidal[vectors]`) with that many columns, weighing `vector_weight`.
    `encoder_weight` > 0 makes it an encoder cascade (`tidal.training.cascade`): a logistic
    regression (regularisation `encoder_C`) on the sentence encoder's embedding of the
    raw text adds its logits, times that weight, to the n-gram SVM's values in a second
    model, which answers where the fast model's top probability is below `encoder_gate`
    or it gives an intent of `encoder_confirm` `encoder_confirm_floor` or more.
    """
    if calibration not in CALIBRATIONS:
        raise ValueError(f"calibration must be one of {CALIBRATIONS}, not {calibration!r}")
    folds = calibration_cv if labels is None else _folds(labels, calibration_cv)
    blocks: list[tuple[str, Any]] = [
        (
            "words",
            TfidfVectorizer(analyzer=partial(word_ngrams, max_n=word_max_n), sublinear_tf=True),
        ),
        (
            "chars",
            TfidfVectorizer(
                analyzer=partial(char_wb_ngrams, min_n=char_min_n, max_n=char_max_n),
                sublinear_tf=True,
            ),
        ),
    ]
    if vector_components > 0:
        from tidal.training.vectors import VectorFeatures

        blocks.append(("vectors", VectorFeatures(vector_components, vector_weight)))
    features = FeatureUnion(blocks)
    if encoder_weight > 0.0 and vector_components > 0:
        raise ValueError("the sentence encoder and static word vectors cannot be combined")
    if encoder_weight <= 0.0:
        classifier = CalibratedLinearSVC(
            C=C, cv=folds, method=calibration, random_state=random_state, n_jobs=n_jobs
        )
        return Pipeline(
            [("normalize", SpacyNormalizer()), ("features", features), ("classifier", classifier)]
        )
    from tidal.engine.classify.encoder import shared_encoder
    from tidal.training.cascade import EncoderCascade
    from tidal.training.encoder_features import EncoderFeatures

    # The encoder reads the raw text, the n-gram blocks its lemmas: two branches, the
    # encoder's columns last (where the cascade and the export expect them).
    both = FeatureUnion(
        [
            ("text", Pipeline([("normalize", SpacyNormalizer()), ("ngrams", features)])),
            ("encoder", EncoderFeatures()),
        ]
    )
    cascade = EncoderCascade(
        C=C,
        encoder_C=encoder_C,
        encoder_weight=encoder_weight,
        cv=folds,
        method=calibration,
        random_state=random_state,
        n_jobs=n_jobs,
        encoder_columns=shared_encoder().dimensions,
        gate=encoder_gate,
        confirm=tuple(encoder_confirm),
        confirm_floor=encoder_confirm_floor,
    )
    return Pipeline([("features", both), ("classifier", cascade)])


def feature_blocks(pipeline: Pipeline) -> dict[str, Any]:
    """The fitted feature blocks of a pipeline by name (words, chars, vectors, encoder)."""
    features = pipeline.named_steps["features"]
    blocks = dict(features.transformer_list)
    if "text" in blocks:
        ngrams = blocks.pop("text").named_steps["ngrams"]
        blocks = {**dict(ngrams.transformer_list), **blocks}
    return blocks


class IntentClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Calibrated intent probabilities with per-intent thresholds and a fallback.

    Thresholds are tuned on out-of-fold predictions over the training data
    (`threshold_cv` folds), so no evaluation data is ever looked at; the final model is
    then fitted on all training data.

    >>> texts = ["hi", "hello", "hey there", "thanks", "thank you", "many thanks",
    ...          "my card is blocked", "where is my refund", "how do I pay"]
    >>> labels = ["greeting"] * 3 + ["gratitude"] * 3 + ["other"] * 3
    >>> model = IntentClassifier(threshold_cv=3).fit(texts, labels)
    >>> sorted(model.classes_)
    ['gratitude', 'greeting', 'other']
    """

    def __init__(
        self,
        C: float = 1.0,
        word_max_n: int = 2,
        char_min_n: int = 2,
        char_max_n: int = 5,
        calibration_cv: int = 2,
        calibration: str = "temperature",
        threshold_cv: int = 5,
        threshold_beta: float = 0.5,
        fallback: str = FALLBACK_INTENT,
        random_state: int = 0,
        vector_components: int = 0,
        vector_weight: float = 1.0,
        encoder_weight: float = 0.0,
        encoder_gate: float = 0.9,
        encoder_confirm: Sequence[str] = (),
        encoder_C: float = 10.0,
        encoder_confirm_floor: float = 0.05,
    ) -> None:
        self.C = C
        self.word_max_n = word_max_n
        self.char_min_n = char_min_n
        self.char_max_n = char_max_n
        self.calibration_cv = calibration_cv
        self.calibration = calibration
        self.threshold_cv = threshold_cv
        self.threshold_beta = threshold_beta
        self.fallback = fallback
        self.random_state = random_state
        self.vector_components = vector_components
        self.vector_weight = vector_weight
        self.encoder_weight = encoder_weight
        self.encoder_gate = encoder_gate
        self.encoder_confirm = encoder_confirm
        self.encoder_C = encoder_C
        self.encoder_confirm_floor = encoder_confirm_floor

    def _encoder_settings(self) -> dict[str, Any]:
        return {
            "encoder_weight": self.encoder_weight,
            "encoder_gate": self.encoder_gate,
            "encoder_confirm": tuple(self.encoder_confirm),
            "encoder_C": self.encoder_C,
            "encoder_confirm_floor": self.encoder_confirm_floor,
        }

    def _pipeline(self, labels: Sequence[str]) -> Pipeline:
        return build_pipeline(
            C=self.C,
            word_max_n=self.word_max_n,
            char_min_n=self.char_min_n,
            char_max_n=self.char_max_n,
            calibration_cv=self.calibration_cv,
            random_state=self.random_state,
            labels=labels,
            calibration=self.calibration,
            vector_components=self.vector_components,
            vector_weight=self.vector_weight,
            **self._encoder_settings(),
        )

    def fit(
        self,
        X: Sequence[str],
        y: Sequence[str],
        progress: Callable[[str], None] | None = None,
        tunes_thresholds: Sequence[bool] | None = None,
    ) -> IntentClassifier:
        """Tune thresholds out-of-fold, then fit the pipeline on everything.

        `progress`, if given, is called with a short description after each model fit
        (`threshold_folds() + 1` calls in all), for progress bars. `tunes_thresholds`,
        if given, says per example whether its out-of-fold prediction tunes the
        thresholds (all examples still train every fold and the final model).
        """
        texts, labels = list(X), [str(label) for label in y]
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        if len(set(labels)) < 2:
            raise ValueError("training needs at least two intents")
        if _rarest(labels) < MIN_EXAMPLES_PER_INTENT:
            counts = dict(zip(*np.unique(np.asarray(labels), return_counts=True), strict=True))
            few = sorted(str(k) for k, v in counts.items() if v < MIN_EXAMPLES_PER_INTENT)
            raise ValueError(
                f"intents with fewer than {MIN_EXAMPLES_PER_INTENT} examples: {', '.join(few)}"
            )
        report = progress or (lambda step: None)
        self.oof_proba_ = self._out_of_fold_proba(texts, labels, report)
        self.pipeline_ = self._pipeline(labels).fit(texts, labels)
        report("final model")
        self.classes_: NDArray[np.str_] = self.pipeline_.classes_
        tuning = np.ones(len(labels), dtype=bool)
        if tunes_thresholds is not None:
            tuning = np.asarray(list(tunes_thresholds), dtype=bool)
            if tuning.shape != (len(labels),) or not tuning.any():
                raise ValueError("tunes_thresholds needs one flag per example, some true")
        self.thresholds_ = tune_thresholds(
            [label for label, keep in zip(labels, tuning, strict=True) if keep],
            self.oof_proba_[tuning],
            list(self.classes_),
            self.fallback,
            self.threshold_beta,
        )
        return self

    def threshold_folds(self, y: Sequence[str]) -> int:
        """How many folds threshold tuning will use for these labels."""
        return _folds([str(label) for label in y], self.threshold_cv)

    def _out_of_fold_proba(
        self, texts: list[str], labels: list[str], report: Callable[[str], None]
    ) -> NDArray[np.float64]:
        folds = self.threshold_folds(labels)
        # The rarest intent keeps at least this many examples in each training part,
        # where each fold's pipeline calibrates on folds of its own.
        kept = _rarest(labels) * (folds - 1) // folds
        classes = sorted(set(labels))
        proba = np.zeros((len(texts), len(classes)))
        splitter = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        for number, (train, held_out) in enumerate(splitter.split(texts, labels), start=1):
            pipeline = build_pipeline(
                C=self.C,
                word_max_n=self.word_max_n,
                char_min_n=self.char_min_n,
                char_max_n=self.char_max_n,
                calibration_cv=max(2, min(self.calibration_cv, kept)),
                random_state=self.random_state,
                calibration=self.calibration,
                vector_components=self.vector_components,
                vector_weight=self.vector_weight,
                **self._encoder_settings(),
            )
            pipeline.fit([texts[i] for i in train], [labels[i] for i in train])
            columns = [classes.index(str(c)) for c in pipeline.classes_]
            proba[np.ix_(held_out, columns)] = pipeline.predict_proba([texts[i] for i in held_out])
            report(f"threshold fold {number}/{folds}")
        return proba

    def predict_proba(self, X: Sequence[str]) -> NDArray[np.float64]:
        """Calibrated probabilities, columns in the order of `classes_`."""
        check_is_fitted(self, "pipeline_")
        proba: NDArray[np.float64] = self.pipeline_.predict_proba(list(X))
        return proba

    def predict(self, X: Sequence[str]) -> NDArray[np.str_]:
        """The top intent where it reaches its threshold, else the fallback."""
        labels = apply_thresholds(
            self.predict_proba(X), list(self.classes_), self.thresholds_, self.fallback
        )
        return np.asarray(labels)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
