"""Classification speed: one message at a time, in batches, the rules stage alone, and
scikit-learn's own `Pipeline.predict` on the same messages for comparison.

    .venv/bin/python bench/classify.py [--repeat 5] [--sklearn-messages 400]

Messages are the held-out evaluation sets (`training/eval`, both directions: a
realistic mix of short ineffectual replies and longer substantive messages); without
them, the rule test cases. Each stage is timed per message with `perf_counter_ns`:

- single: `Classifier.classify(text, direction)` end to end (normalize, tokenize,
  rules, model, encoder stage of a cascade model, fallback); p50 and p99 over every
  message and repetition, with the caches of recent texts (lemmas, embeddings) emptied
  before each repetition; `encoder_share` is the share of these calls the encoder
  stage decided;
- batch: `Classifier.classify_batch` over each direction's messages; messages/second;
- rules: the rules stage alone (`IntentRuleMatcher.match` on tokenized messages), and
  normalize + tokenize separately;
- sklearn: the equivalent scikit-learn pipeline (`tidal.training.estimator.build_pipeline`,
  fitted on `training/data`), `Pipeline.predict([text])` per message.

The machine is shared and timings are noisy: p50/p99 are over all timings of all
repetitions; `best_of_*` are percentiles over messages of each message's best time
(which leaves out time spent preempted by other processes); the 1-minute load average
is printed with them. The last line is one JSON object for scripts.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Run by path, Python puts bench/ itself first on the import path, where a module named
# like a standard one (bench/http.py) would shadow it: import from the project root.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from tidal.engine.classify.loading import load_rules, load_scorers  # noqa: E402
from tidal.engine.classify.normalize import normalize  # noqa: E402
from tidal.engine.classify.pipeline import Classifier  # noqa: E402
from tidal.engine.core.intents import DIRECTIONS, Direction  # noqa: E402

Message = tuple[str, Direction]


def _messages(classifier: Classifier) -> tuple[list[Message], str]:
    from tidal.training.dataset import load_directory

    eval_dir = ROOT / "training" / "eval"
    if eval_dir.is_dir():
        examples = load_directory(eval_dir)
        if examples:
            return [(e.text, e.direction) for e in examples], "training/eval"
    return [(c.text, c.direction) for c in classifier.rules.tests], "rule test cases"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _forget_texts() -> None:
    """Empty text-level caches, so that every repetition sees unseen messages.

    The model caches the lemma text of recent messages (real traffic repeats "ok" and
    "thanks"); replaying the same evaluation set five times would otherwise measure
    cache hits. Word-level caches stay warm, as in a running service.
    """
    from tidal.engine.classify import encoder, features

    clear = getattr(features.lemma_text, "cache_clear", None)
    if clear is not None:
        clear()
    encoder.forget_texts()


def _single(
    classifier: Classifier, messages: list[Message], repeat: int
) -> tuple[list[float], list[float]]:
    """Every timing, and each message's best time over the repetitions.

    On a shared machine a timing may include time the process spent preempted; the
    best of a message's repetitions excludes that (and the percentiles over messages
    still show how the cost varies with the message).
    """
    clock = time.perf_counter_ns
    classify = classifier.classify
    timings: list[float] = []
    best = [float("inf")] * len(messages)
    for _ in range(repeat):
        _forget_texts()
        for i, (text, direction) in enumerate(messages):
            start = clock()
            classify(text, direction)
            elapsed = (clock() - start) / 1000
            timings.append(elapsed)
            best[i] = min(best[i], elapsed)
    return timings, best


def _encoder_runs(classifier: Classifier) -> int:
    """Messages the encoder stages of the loaded models have decided so far."""
    return sum(int(getattr(s, "encoder_runs", 0)) for s in classifier.scorers.values())


def _cascades(classifier: Classifier) -> list[str]:
    return [d for d, s in classifier.scorers.items() if getattr(s, "encoder", None) is not None]


def _batch(classifier: Classifier, messages: list[Message], repeat: int) -> float:
    by_direction = {d: [t for t, md in messages if md == d] for d in DIRECTIONS}
    best = float("inf")
    for _ in range(repeat):
        _forget_texts()
        start = time.perf_counter()
        for direction, texts in by_direction.items():
            classifier.classify_batch(texts, direction)
        best = min(best, time.perf_counter() - start)
    return len(messages) / best


def _stages(
    classifier: Classifier, messages: list[Message], repeat: int
) -> tuple[list[float], list[float], list[float]]:
    """Rules stage timings (all, and each message's best) and normalize + tokenize."""
    clock = time.perf_counter_ns
    tokenizer = classifier.tokenizer
    match = classifier.matcher.match
    tokenized = [(tokenizer(normalize(t)), d) for t, d in messages]
    rules: list[float] = []
    rules_best = [float("inf")] * len(messages)
    tokenize: list[float] = []
    for _ in range(repeat):
        for i, (tokens, direction) in enumerate(tokenized):
            start = clock()
            match(tokens, direction)
            elapsed = (clock() - start) / 1000
            rules.append(elapsed)
            rules_best[i] = min(rules_best[i], elapsed)
        for text, _direction in messages:
            start = clock()
            tokenizer(normalize(text))
            tokenize.append((clock() - start) / 1000)
    return rules, rules_best, tokenize


def _sklearn(messages: list[Message], limit: int) -> list[float]:
    """Per-message `Pipeline.predict` of the equivalent scikit-learn pipeline."""
    from tidal.training.dataset import load_directory
    from tidal.training.estimator import build_pipeline

    examples = load_directory(ROOT / "training" / "data")
    timings: list[float] = []
    clock = time.perf_counter_ns
    for direction in DIRECTIONS:
        texts = [e.text for e in examples if e.direction == direction]
        labels = [e.intent for e in examples if e.direction == direction]
        pipeline = build_pipeline(labels=labels).fit(texts, labels)
        sample = [t for t, d in messages if d == direction][: limit // 2]
        for text in sample[:20]:  # warm-up
            pipeline.predict([text])
        for text in sample:
            start = clock()
            pipeline.predict([text])
            timings.append((clock() - start) / 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=Path, default=ROOT / "rules")
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sklearn-messages", type=int, default=400)
    args = parser.parse_args()

    rule_set = load_rules(args.rules)
    scorers = load_scorers(args.models)
    classifier = Classifier(rule_set.intents, scorers)
    messages, source = _messages(classifier)
    sources = Counter(classifier.classify(t, d).source for t, d in messages)  # also warms up
    # A service freezes its long-lived objects after loading too: the collector then
    # never walks the models and rule tables.
    gc.collect()
    gc.freeze()

    runs_before = _encoder_runs(classifier)
    single, best = _single(classifier, messages, args.repeat)
    encoder_share = (_encoder_runs(classifier) - runs_before) / len(single)
    batch_rate = _batch(classifier, messages, args.repeat)
    rules, rules_best, tokenize = _stages(classifier, messages, args.repeat)
    sklearn = _sklearn(messages, args.sklearn_messages)

    p50, p99 = statistics.median(single), _percentile(single, 0.99)
    print(
        f"messages: {len(messages)} from {source}; sources {dict(sources)}; "
        f"{rule_set.intents.pattern_count} rule patterns; models: "
        f"{', '.join(f'{d}={s.version}' for d, s in scorers.items()) or 'none'}"
    )
    print(
        f"single message: p50 {p50:.1f} us, p99 {p99:.1f} us, mean {statistics.mean(single):.1f}"
        f" us ({len(single)} timings)"
    )
    print(
        f"single message, best of {args.repeat} per message: p50 {statistics.median(best):.1f}"
        f" us, p99 {_percentile(best, 0.99):.1f} us"
    )
    print(
        f"encoder stage: ran on {100 * encoder_share:.2f}% of single-message calls "
        f"(cascade models: {', '.join(_cascades(classifier)) or 'none'})"
    )
    print(f"batch: {batch_rate:,.0f} messages/s")
    print(
        f"rules stage: mean {statistics.mean(rules):.1f} us, p50 {statistics.median(rules):.1f}"
        f" us, p99 {_percentile(rules, 0.99):.1f} us; best of {args.repeat} per message:"
        f" mean {statistics.mean(rules_best):.1f} us, p99 {_percentile(rules_best, 0.99):.1f} us"
    )
    print(f"normalize + tokenize: p50 {statistics.median(tokenize):.1f} us")
    print(
        f"scikit-learn Pipeline.predict: p50 {statistics.median(sklearn):.1f} us, "
        f"p99 {_percentile(sklearn, 0.99):.1f} us ({len(sklearn)} messages)"
    )
    print(
        json.dumps(
            {
                "bench": "classify",
                "p50_us": round(p50, 1),
                "p99_us": round(p99, 1),
                "rules_us": round(statistics.mean(rules), 1),
                "sklearn_pipeline_p50_us": round(statistics.median(sklearn), 1),
                "batch_msgs_per_s": round(batch_rate),
                "best_of_p50_us": round(statistics.median(best), 1),
                "best_of_p99_us": round(_percentile(best, 0.99), 1),
                "load_average_1m": round(os.getloadavg()[0], 2),
                "rules_p99_us": round(_percentile(rules, 0.99), 1),
                "rules_best_of_mean_us": round(statistics.mean(rules_best), 1),
                "tokenize_p50_us": round(statistics.median(tokenize), 1),
                "messages": len(messages),
                "encoder_share": round(encoder_share, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
