"""Accuracy of Tidal's intent-model training code on two public benchmarks.

    .venv/bin/python -m bench.accuracy            # fixed hyper-parameters (see below)
    .venv/bin/python -m bench.accuracy --tune     # re-run the hyper-parameter search

Uses `tidal.training.estimator.build_pipeline`, the pipeline `tidal train` fits (spaCy lemmas,
word 1-2 + char_wb 2-5 TF-IDF, LinearSVC, temperature calibration), on:

- CLINC150 "full" (Larson et al., 2019): trained on `train` plus `oos_train` as one more
  class (the paper's oos-train setting; its 100 examples teach what "none of these"
  looks like), with an out-of-scope threshold on the top calibrated in-scope probability
  chosen on the VALIDATION split (the threshold that maximises accuracy over all
  3,100 validation queries, out-of-scope counted as one more class). The encoder model
  is scored with the out-of-scope test a model keeps instead (`EncoderCascade.
  tune_out_of_scope`: log probability plus similarity to the nearest intent centroid,
  weight and threshold chosen the same way on the same split); its probability
  threshold alone is reported beside it. Reported: in-scope accuracy on `test` (an
  in-scope query called out-of-scope counts as wrong) and out-of-scope recall on
  `oos_test`. The four published anchors are Larson et al.'s oos-threshold rows.
- Banking77 (Casanueva et al., 2020): trained on `train`, accuracy on `test`.

Three configurations are measured: the default install's encoder model (`tidal train
--encoder`: the TF-IDF SVM's values plus a logistic regression on the sentence
encoder's embedding, `training/cascade.py`), the TF-IDF model alone, and, when
`tidal[vectors]` is installed, TF-IDF plus static word vectors (`training/vectors.py`).
The encoder model is scored twice from one fit: deciding every query, and as the
cascade a service runs (the encoder only where the TF-IDF model's top probability is
below the gate), with the share of queries that reached the encoder. The JSON's plain
fields are the encoder model's, `*_cascade` the cascade's, `*_tfidf` the TF-IDF
model's, `*_with_vectors` the word vectors'; train seconds include embedding the
training messages (the per-text embedding cache starts empty).
Hyper-parameters were chosen without looking at any test split: on CLINC150's
validation split and on a stratified 85/15 split of Banking77's train (`--tune` repeats
that search). The last line printed is one JSON object for scripts.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, Python puts bench/ first on the path, where sibling benchmark
# modules (e.g. bench/http.py) would shadow the standard library: use the root instead.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from sklearn.model_selection import train_test_split  # noqa: E402

from tidal.training.estimator import build_pipeline  # noqa: E402

EXTERNAL = ROOT / "training" / "external"
OOS = "oos"
C_GRID = (0.25, 0.5, 1.0, 2.0)
#: The two calibration folds are fitted in parallel: the same model, less wall time.
CALIBRATION_JOBS = 2
#: With tidal[vectors]: (columns kept, weight) of the word-vector block, at C = 1.
VECTOR_GRID = (
    {"vector_components": 64, "vector_weight": 1.0},
    {"vector_components": 128, "vector_weight": 2.0},
    {"vector_components": 256, "vector_weight": 2.0},
)
#: Chosen by `--tune` (validation / train split only; ties go to the earlier setting).
TFIDF_CLINC: dict[str, Any] = {"C": 2.0}
TFIDF_BANKING: dict[str, Any] = {"C": 1.0}
VECTORS_CLINC: dict[str, Any] = {"C": 1.0, "vector_components": 64, "vector_weight": 1.0}
VECTORS_BANKING: dict[str, Any] = {"C": 1.0, "vector_components": 256, "vector_weight": 2.0}
#: The encoder model: C of the TF-IDF SVM, weight of the head's logits, the head's C.
ENCODER_GRID = tuple({"encoder_weight": weight, "encoder_C": 10.0} for weight in (0.5, 0.75, 1.0))
ENCODER_CLINC: dict[str, Any] = {"C": 2.0, "encoder_weight": 0.75, "encoder_C": 10.0}
ENCODER_BANKING: dict[str, Any] = {"C": 1.0, "encoder_weight": 0.75, "encoder_C": 10.0}
#: Above 1, no query keeps the TF-IDF model's answer: the encoder model decides all.
EVERY_QUERY = 1.01

PUBLISHED_CLINC = [
    ("SVM, bag of words (Larson et al.)", 88.2, 18.0),
    ("Rasa, spaCy + sklearn (Larson et al.)", 90.9, 31.2),
    ("MLP on USE (Larson et al.)", 93.4, 49.1),
    ("BERT-large fine-tuned (Larson et al.)", 96.2, 52.3),
]
PUBLISHED_BANKING = [
    ("BERT fine-tuned (as cited)", 93.66),
    ("USE + ConveRT (Casanueva et al.)", 93.36),
]

Pairs = list[tuple[str, str]]


def load_clinc() -> dict[str, Pairs]:
    data = json.loads((EXTERNAL / "clinc150" / "data_full.json").read_text())
    return {split: [(text, label) for text, label in rows] for split, rows in data.items()}


def load_banking(split: str) -> Pairs:
    with (EXTERNAL / "banking77" / f"{split}.csv").open(newline="") as stream:
        return [(row["text"], row["category"]) for row in csv.DictReader(stream)]


def texts_of(pairs: Pairs) -> list[str]:
    return [text for text, _ in pairs]


def labels_of(pairs: Pairs) -> list[str]:
    return [label for _, label in pairs]


def oos_predictions(
    proba: NDArray[np.float64], classes: Sequence[str], threshold: float
) -> NDArray[np.str_]:
    """Top in-scope class, or out-of-scope if the oos class wins or confidence is low."""
    names = np.asarray(classes)
    in_scope = names != OOS
    scoped = proba[:, in_scope]
    top = scoped.max(axis=1)
    predicted = names[in_scope][scoped.argmax(axis=1)]
    if (~in_scope).any():
        predicted = np.where(proba[:, ~in_scope][:, 0] > top, OOS, predicted)
    return np.where(top < threshold, OOS, predicted)


def tune_oos_threshold(
    proba: NDArray[np.float64], truth: Sequence[str], classes: Sequence[str]
) -> float:
    """The threshold maximising accuracy over the validation queries (oos included)."""
    gold = np.asarray(truth)
    candidates = np.unique(np.round(np.r_[0.0, proba.max(axis=1)], 4))
    scores = [(oos_predictions(proba, classes, t) == gold).mean() for t in candidates]
    return float(candidates[int(np.argmax(scores))])


def _fit(train: Pairs, params: dict[str, Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    pipeline = build_pipeline(labels=labels_of(train), n_jobs=CALIBRATION_JOBS, **params).fit(
        texts_of(train), labels_of(train)
    )
    return pipeline, time.perf_counter() - started


def _scorers(pipeline: Any) -> dict[str, Any]:
    """Probability functions of a fitted pipeline: as served, and (for an encoder model)
    the encoder model on every query, with the share of queries the cascade sent it."""
    classifier = pipeline.named_steps["classifier"]
    if not hasattr(classifier, "encoder_proba"):
        return {"": pipeline.predict_proba}
    features = pipeline[:-1]

    def every(texts: list[str]) -> NDArray[np.float64]:
        proba: NDArray[np.float64] = classifier.encoder_proba(features.transform(texts))
        return proba

    def cascade(texts: list[str]) -> NDArray[np.float64]:
        proba: NDArray[np.float64] = pipeline.predict_proba(texts)
        return proba

    return {"": every, "_cascade": cascade}


def encoder_share(pipeline: Any, texts: list[str]) -> float:
    """The share of `texts` the cascade hands to the encoder model."""
    classifier = pipeline.named_steps["classifier"]
    if not hasattr(classifier, "needs_encoder"):
        return 0.0
    fast, _ = classifier._split(pipeline[:-1].transform(texts))
    return float(classifier.needs_encoder(classifier.fast_.predict_proba(fast)).mean())


def clinc(params: dict[str, Any]) -> dict[str, float]:
    data = load_clinc()
    train = data["train"] + data["oos_train"]
    pipeline, seconds = _fit(train, params)
    classes = list(pipeline.classes_)
    val = data["val"] + data["oos_val"]
    gold = np.asarray(labels_of(data["test"]))
    result: dict[str, float] = {"seconds": seconds}
    for suffix, proba in _scorers(pipeline).items():
        val_proba = proba(texts_of(val))
        threshold = tune_oos_threshold(val_proba, labels_of(val), classes)
        on_val = oos_predictions(val_proba, classes, threshold)
        val_gold = np.asarray(labels_of(val))
        val_oos = val_gold == OOS
        test_proba = proba(texts_of(data["test"]))
        test = oos_predictions(test_proba, classes, threshold)
        unthresholded = oos_predictions(test_proba, classes, 0.0)
        oos = oos_predictions(proba(texts_of(data["oos_test"])), classes, threshold)
        result |= {
            f"in_scope_accuracy{suffix}": 100 * float((test == gold).mean()),
            f"oos_recall{suffix}": 100 * float((oos == OOS).mean()),
            f"in_scope_accuracy_without_threshold{suffix}": 100
            * float((unthresholded == gold).mean()),
            f"threshold{suffix}": threshold,
            f"val_in_scope_accuracy{suffix}": 100
            * float((on_val[~val_oos] == val_gold[~val_oos]).mean()),
            f"val_oos_recall{suffix}": 100 * float((on_val[val_oos] == OOS).mean()),
        }
    if len(_scorers(pipeline)) > 1:
        result["encoder_share"] = 100 * encoder_share(
            pipeline, texts_of(data["test"] + data["oos_test"])
        )
        result |= out_of_scope_test(pipeline, data, val)
    return result


def out_of_scope_test(pipeline: Any, data: dict[str, Pairs], val: Pairs) -> dict[str, float]:
    """The encoder model with the out-of-scope test a model directory keeps
    (`EncoderCascade.tune_out_of_scope`: weight and threshold chosen on `val` +
    `oos_val`); the probability-threshold figures above are what it replaces."""
    classifier = pipeline.named_steps["classifier"]
    features = pipeline[:-1]
    started = time.perf_counter()
    classifier.tune_out_of_scope(features.transform(texts_of(val)), labels_of(val), OOS)
    seconds = time.perf_counter() - started

    def scoped(pairs: Pairs) -> NDArray[Any]:
        predicted: NDArray[Any] = classifier.predict_scoped(features.transform(texts_of(pairs)))
        return predicted

    val_gold = np.asarray(labels_of(val))
    on_val = scoped(val)
    val_oos = val_gold == OOS
    return {
        "scoped_in_scope_accuracy": 100
        * float((scoped(data["test"]) == np.asarray(labels_of(data["test"]))).mean()),
        "scoped_oos_recall": 100 * float((scoped(data["oos_test"]) == OOS).mean()),
        "scoped_weight": classifier.out_of_scope_weight_,
        "scoped_threshold": classifier.out_of_scope_threshold_,
        "scoped_val_in_scope_accuracy": 100
        * float((on_val[~val_oos] == val_gold[~val_oos]).mean()),
        "scoped_val_oos_recall": 100 * float((on_val[val_oos] == OOS).mean()),
        "scoped_tune_seconds": seconds,
    }


def banking(params: dict[str, Any]) -> dict[str, float]:
    train, test = load_banking("train"), load_banking("test")
    pipeline, seconds = _fit(train, params)
    classes = np.asarray(pipeline.classes_)
    gold = np.asarray(labels_of(test))
    result: dict[str, float] = {"seconds": seconds}
    for suffix, proba in _scorers(pipeline).items():
        predicted = classes[proba(texts_of(test)).argmax(axis=1)]
        result[f"accuracy{suffix}"] = 100 * float((predicted == gold).mean())
    if len(_scorers(pipeline)) > 1:
        result["encoder_share"] = 100 * encoder_share(pipeline, texts_of(test))
    return result


def fast_path() -> None:
    """Load time, latency and size of the shipped models (`models/<direction>`)."""
    from tidal.engine.classify.features import lemma_text
    from tidal.engine.classify.model import IntentModel
    from tidal.training.dataset import load_directory

    print("\nShipped models, numpy fast path (evaluation messages)")
    for direction in ("inbound", "outbound"):
        path = ROOT / "models" / direction
        if not path.is_dir():
            continue
        started = time.perf_counter()
        model = IntentModel.load(path)
        load_ms = 1000 * (time.perf_counter() - started)
        texts = [
            e.text
            for e in load_directory(ROOT / "training" / "eval" / direction, direction=direction)
        ]
        model.predict_proba("warm up the tokenizer")
        lemma_text.cache_clear()
        timings = []
        for _ in range(2):  # first pass: caches cold; second: messages seen before
            started = time.perf_counter()
            for text in texts:
                model.predict_proba(text)
            timings.append(1e6 * (time.perf_counter() - started) / len(texts))
        size = (path / "model.npz").stat().st_size / 1e6
        print(
            f"  {direction}: loads in {load_ms:.0f} ms; {timings[0]:.0f} us/message "
            f"(first pass over {len(texts)}), {timings[1]:.0f} us repeated; "
            f"artifact {size:.2f} MB"
        )
    examples = load_directory(ROOT / "training" / "data" / "inbound", direction="inbound")
    pipeline = build_pipeline().fit([e.text for e in examples], [e.intent for e in examples])
    held_out = load_directory(ROOT / "training" / "eval" / "inbound", direction="inbound")
    sample = [e.text for e in held_out][:200]
    lemma_text.cache_clear()
    started = time.perf_counter()
    for text in sample:
        pipeline.predict_proba([text])
    per_message = 1e6 * (time.perf_counter() - started) / len(sample)
    print(
        f"  for comparison, the inbound scikit-learn Pipeline.predict_proba: "
        f"{per_message:.0f} us/message (first pass over {len(sample)})"
    )


Params = dict[str, Any]


def _clinc_val_accuracy(params: Params) -> float:
    data = load_clinc()
    pipeline = build_pipeline(**params).fit(texts_of(data["train"]), labels_of(data["train"]))
    predicted = pipeline.predict(texts_of(data["val"]))
    return 100 * float((predicted == np.asarray(labels_of(data["val"]))).mean())


def _banking_split_accuracy(params: Params) -> float:
    train = load_banking("train")
    fit_part, held_out = train_test_split(
        train, test_size=0.15, stratify=labels_of(train), random_state=0
    )
    pipeline = build_pipeline(**params).fit(texts_of(fit_part), labels_of(fit_part))
    predicted = pipeline.predict(texts_of(held_out))
    return 100 * float((predicted == np.asarray(labels_of(held_out))).mean())


def tune(with_vectors: bool) -> dict[str, tuple[Params, Params]]:
    """Parameters for each benchmark, chosen on CLINC150 val and on a split of Banking77
    train (first best wins, so ties go to the earlier, cheaper setting)."""
    grids = {"tfidf": [{"C": c} for c in C_GRID]}
    if with_vectors:
        grids["vectors"] = [{"C": 1.0, **setting} for setting in VECTOR_GRID]
    # The encoder model keeps each benchmark's TF-IDF C; scored on every query.
    grids["encoder"] = [{"encoder_gate": EVERY_QUERY, **setting} for setting in ENCODER_GRID]
    chosen: dict[str, tuple[Params, Params]] = {}
    for name, grid in grids.items():
        picks = []
        for number, (label, score) in enumerate(
            (
                ("CLINC150 val", _clinc_val_accuracy),
                ("Banking77 15% of train", _banking_split_accuracy),
            )
        ):
            scored = []
            for setting in grid:
                params = setting
                if name == "encoder":
                    params = {"C": chosen["tfidf"][number]["C"], **setting}
                accuracy = score(params)
                print(f"  {name} {label} {params}: accuracy {accuracy:.2f}")
                scored.append((accuracy, params))
            picks.append(max(scored, key=lambda pair: pair[0])[1])
        chosen[name] = (picks[0], picks[1])
    for picks_of_grid in chosen.values():
        # Served with the default gate; the figures score every query as well.
        for pick in picks_of_grid:
            pick.pop("encoder_gate", None)
    return chosen


def _report_clinc(name: str, params: Params) -> dict[str, float]:
    result_clinc = clinc(params)
    print(
        f"\n{name}: CLINC150 full ({_describe(params)}; out-of-scope threshold "
        f"{result_clinc['threshold']:.4f} from val)"
    )
    print(f"  {'system':44s} {'in-scope acc':>12s} {'oos recall':>10s}")
    for system, accuracy, recall in PUBLISHED_CLINC:
        print(f"  {system:44s} {accuracy:12.1f} {recall:10.1f}")
    print(
        f"  {'Tidal (this run)':44s} {result_clinc['in_scope_accuracy']:12.2f} "
        f"{result_clinc['oos_recall']:10.2f}   trained in {result_clinc['seconds']:.1f} s"
    )
    print(
        f"  (same model, no out-of-scope threshold: in-scope accuracy "
        f"{result_clinc['in_scope_accuracy_without_threshold']:.2f}; on the validation "
        f"split, with the threshold: in-scope {result_clinc['val_in_scope_accuracy']:.2f}, "
        f"out-of-scope recall {result_clinc['val_oos_recall']:.1f})"
    )
    if "scoped_in_scope_accuracy" in result_clinc:
        print(
            f"  {'Tidal, out-of-scope test kept with the model':44s} "
            f"{result_clinc['scoped_in_scope_accuracy']:12.2f} "
            f"{result_clinc['scoped_oos_recall']:10.2f}   (weight "
            f"{result_clinc['scoped_weight']}, threshold {result_clinc['scoped_threshold']:.4f}"
            f" from val: in-scope {result_clinc['scoped_val_in_scope_accuracy']:.2f}, "
            f"out-of-scope recall {result_clinc['scoped_val_oos_recall']:.1f}; chosen in "
            f"{result_clinc['scoped_tune_seconds']:.1f} s)"
        )
    if "in_scope_accuracy_cascade" in result_clinc:
        print(
            f"  {'Tidal, as the cascade a service runs':44s} "
            f"{result_clinc['in_scope_accuracy_cascade']:12.2f} "
            f"{result_clinc['oos_recall_cascade']:10.2f}   encoder on "
            f"{result_clinc['encoder_share']:.1f}% of test queries"
        )
    return result_clinc


def _report_banking(name: str, params: Params) -> dict[str, float]:
    result = banking(params)
    print(f"\n{name}: Banking77 ({_describe(params)})")
    for system, accuracy in PUBLISHED_BANKING:
        print(f"  {system:44s} {accuracy:12.2f}")
    print(
        f"  {'Tidal (this run)':44s} {result['accuracy']:12.2f}"
        f"   trained in {result['seconds']:.1f} s"
    )
    if "accuracy_cascade" in result:
        print(
            f"  {'Tidal, as the cascade a service runs':44s} {result['accuracy_cascade']:12.2f}"
            f"   encoder on {result['encoder_share']:.1f}% of test queries"
        )
    return result


def _describe(params: Params) -> str:
    return ", ".join(f"{key}={value}" for key, value in params.items())


def _figures(
    result_clinc: dict[str, float], result_banking: dict[str, float], suffix: str
) -> dict[str, float]:
    figures = {
        f"clinc150_in_scope_accuracy{suffix}": round(result_clinc["in_scope_accuracy"], 2),
        f"clinc150_oos_recall{suffix}": round(result_clinc["oos_recall"], 2),
        f"banking77_accuracy{suffix}": round(result_banking["accuracy"], 2),
        f"train_seconds_clinc150{suffix}": round(result_clinc["seconds"], 1),
        f"train_seconds_banking77{suffix}": round(result_banking["seconds"], 1),
    }
    if "scoped_in_scope_accuracy" in result_clinc:
        # The out-of-scope test the model keeps is the encoder model's answer; the
        # probability threshold alone is kept for comparison.
        figures |= {
            f"clinc150_in_scope_accuracy{suffix}": round(
                result_clinc["scoped_in_scope_accuracy"], 2
            ),
            f"clinc150_oos_recall{suffix}": round(result_clinc["scoped_oos_recall"], 2),
            "clinc150_in_scope_accuracy_probability_threshold": round(
                result_clinc["in_scope_accuracy"], 2
            ),
            "clinc150_oos_recall_probability_threshold": round(result_clinc["oos_recall"], 2),
            "clinc150_oos_weight": result_clinc["scoped_weight"],
            "seconds_choosing_oos_test_clinc150": round(result_clinc["scoped_tune_seconds"], 1),
        }
    if "in_scope_accuracy_cascade" in result_clinc:
        figures |= {
            "clinc150_in_scope_accuracy_cascade": round(
                result_clinc["in_scope_accuracy_cascade"], 2
            ),
            "clinc150_oos_recall_cascade": round(result_clinc["oos_recall_cascade"], 2),
            "banking77_accuracy_cascade": round(result_banking["accuracy_cascade"], 2),
            "encoder_share_clinc150": round(result_clinc["encoder_share"], 1),
            "encoder_share_banking77": round(result_banking["encoder_share"], 1),
        }
    return figures


def vectors_installed() -> bool:
    from tidal.engine.classify.vectors import VectorsUnavailable, package_directory

    try:
        package_directory()
    except VectorsUnavailable:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tune", action="store_true", help="re-run the parameter search")
    args = parser.parse_args(argv)
    with_vectors = vectors_installed()
    settings = {
        "tfidf": (TFIDF_CLINC, TFIDF_BANKING),
        "vectors": (VECTORS_CLINC, VECTORS_BANKING),
        "encoder": (ENCODER_CLINC, ENCODER_BANKING),
    }
    if args.tune:
        settings.update(tune(with_vectors))

    name = "Default install, encoder model (TF-IDF SVM + sentence encoder)"
    clinc_encoder = _report_clinc(name, settings["encoder"][0])
    banking_encoder = _report_banking(name, settings["encoder"][1])
    clinc_tfidf = _report_clinc("TF-IDF only (the baseline)", settings["tfidf"][0])
    banking_tfidf = _report_banking("TF-IDF only (the baseline)", settings["tfidf"][1])
    figures: dict[str, Any] = {
        "bench": "accuracy",
        **_figures(clinc_encoder, banking_encoder, ""),
        **_figures(clinc_tfidf, banking_tfidf, "_tfidf"),
    }
    print(
        f"\nratio to the TF-IDF baseline: CLINC150 in-scope "
        f"{clinc_encoder['in_scope_accuracy'] / clinc_tfidf['in_scope_accuracy']:.3f}, "
        f"Banking77 {banking_encoder['accuracy'] / banking_tfidf['accuracy']:.3f}; training "
        f"time {clinc_encoder['seconds'] / clinc_tfidf['seconds']:.1f}x and "
        f"{banking_encoder['seconds'] / banking_tfidf['seconds']:.1f}x"
    )
    if with_vectors:
        name = "With tidal[vectors] (TF-IDF + static word vectors)"
        clinc_vectors = _report_clinc(name, settings["vectors"][0])
        banking_vectors = _report_banking(name, settings["vectors"][1])
        figures.update(_figures(clinc_vectors, banking_vectors, "_with_vectors"))
    else:
        print("\n(tidal[vectors] is not installed: no word-vector figures)")
    fast_path()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
