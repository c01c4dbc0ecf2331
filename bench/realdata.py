"""Workflow accuracy on real dialogues: a corpus's dev split through the classifier and the engine.

    .venv/bin/python -m bench.realdata [--corpus sgd|multiwoz] [--data DIR] [--errors 20]

Corpora (`CORPORA`): `sgd`, the Schema-Guided Dialogue dev split the models' SGD training
data sits beside; `multiwoz`, MultiWOZ's dev split (`tidal data import multiwoz`), human
dialogues of another origin that nothing was trained on: the figure of how Tidal carries
over to dialogues it has not seen the like of. `--data` names another folder in the same
schema.

Every labelled customer turn of `inbound_dev.jsonl` becomes a replay conversation (the
agent's previous message, if any, then the customer's), every agent turn of
`outbound_dev.jsonl` one with the customer's previous message and the agent's; each runs
through `Replayer`, as `tidal replay` runs it, with a fresh engine. Scored:

- inbound: the decision of the customer's message (close / ignore / activate) against
  `expected_action`; per-class recall; the false-escalation rate (escalations among the
  turns labelled activate: ordinary requests that would jump the queue);
- outbound: the intent of the agent's message against `expected_label`
  (offer_more_help / closing / other; Tidal's greeting and hold count as other);
- the share of messages a sentence-encoder stage of the cascade decided or scored
  (from each classification's source).

With `--banking77`, escalation precision on real banking requests too: Banking77's
train queries (never trained on) through the same classifier, an escalation counted
right when the query's category is fraud, theft or an unrecognised payment
(`ESCALATION_WORTHY`), or when the customer calls it urgent in so many words.

The 151 (previous text, text) pairs that occur in both SGD dev and train are dropped,
so the set is disjoint from anything the shipped models were trained on. Baseline:
the same rules without models, in the same process. The last line is one JSON object.
Data: Schema-Guided Dialogue (Rastogi et al., 2020), CC BY-SA 4.0; MultiWOZ 2.1
(Budzianowski et al., 2018; Eric et al., 2020), MIT; see each folder's README.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from tidal.engine.classify.loading import load_rules, load_scorers  # noqa: E402
from tidal.engine.classify.pipeline import Classifier  # noqa: E402
from tidal.engine.core.intents import Classification  # noqa: E402
from tidal.engine.core.model import MessageOutcome  # noqa: E402
from tidal.engine.replay import Replayer, TextClassifier, parse_conversation  # noqa: E402
from tidal.training.importers.sgd import pair_key  # noqa: E402

#: Corpus name → (folder of its labelled dev turns, name printed).
CORPORA = {
    "sgd": (ROOT / "training" / "external" / "sgd-workflow", "SGD dev"),
    "multiwoz": (ROOT / "training" / "external" / "multiwoz-workflow", "MultiWOZ dev"),
}
#: Outbound intents scored as themselves; every other outbound intent counts as `other`.
OUTBOUND_SCORED = ("offer_more_help", "closing")
#: Banking77 categories where jumping the queue is right: fraud, theft, unknown payments.
ESCALATION_WORTHY = frozenset(
    {
        "compromised_card",
        "card_payment_not_recognised",
        "cash_withdrawal_not_recognised",
        "direct_debit_payment_not_recognised",
        "lost_or_stolen_card",
        "lost_or_stolen_phone",
    }
)
BANKING77 = ROOT / "training" / "external" / "banking77" / "train.csv"
#: Classification sources that mean the encoder stage decided or scored the message.
ENCODER_MARK = "encoder"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def inbound_dev_cases(data: Path) -> tuple[list[dict[str, Any]], int]:
    """Dev customer turns without the pairs that also occur in train, and how many went.

    `tidal data import sgd` already leaves them out of its copy; given the original
    folder (with `inbound_train.jsonl`), they are dropped here.
    """
    dev = read_jsonl(data / "inbound_dev.jsonl")
    if not (data / "inbound_train.jsonl").is_file():
        return dev, 0
    train = {
        pair_key(c["previous_outbound_text"], c["text"])
        for c in read_jsonl(data / "inbound_train.jsonl")
    }
    kept = [c for c in dev if pair_key(c["previous_outbound_text"], c["text"]) not in train]
    return kept, len(dev) - len(kept)


@dataclass
class DirectionScore:
    """Expected → got counts of one direction, with the mistakes kept for reading."""

    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    mistakes: list[tuple[str, str, str, Classification]] = field(default_factory=list)

    def add(self, expected: str, got: str, text: str, classification: Classification) -> None:
        self.confusion[(expected, got)] += 1
        if expected != got:
            self.mistakes.append((expected, got, text, classification))

    @property
    def total(self) -> int:
        return sum(self.confusion.values())

    @property
    def accuracy(self) -> float:
        right = sum(n for (e, g), n in self.confusion.items() if e == g)
        return right / self.total if self.total else 0.0

    def recall(self, label: str) -> float:
        labelled = sum(n for (e, _), n in self.confusion.items() if e == label)
        return self.confusion[(label, label)] / labelled if labelled else 0.0

    def labels(self) -> list[str]:
        return sorted({e for e, _ in self.confusion})


@dataclass
class RealDataScore:
    inbound: DirectionScore
    outbound: DirectionScore
    escalations_of_activate: int
    activate_total: int
    encoder_messages: int
    messages: int

    @property
    def false_escalation_rate(self) -> float:
        return self.escalations_of_activate / self.activate_total if self.activate_total else 0.0

    @property
    def encoder_share(self) -> float:
        return self.encoder_messages / self.messages if self.messages else 0.0


def _conversation_line(conversation_id: str, messages: list[tuple[str, str | None]]) -> str:
    shown = [{"direction": d, "text": t} for d, t in messages if t]
    return json.dumps({"id": conversation_id, "messages": shown})


def _last_outcome(replayer: Replayer, line: str, number: int) -> tuple[MessageOutcome, int]:
    outcomes = list(replayer.outcomes(parse_conversation(line, number)))
    return outcomes[-1], len(outcomes)


def _used_encoder(classification: Classification) -> bool:
    stage = getattr(classification, "stage", None)
    return ENCODER_MARK in str(classification.source) or ENCODER_MARK in str(stage or "")


def score(
    classifier: TextClassifier,
    replayer: Replayer,
    inbound: Iterable[dict[str, Any]],
    outbound: Iterable[dict[str, Any]],
) -> RealDataScore:
    """Replay every case; count decisions, intents, escalations and encoder use."""
    counting = _CountingClassifier(classifier)
    replayer = Replayer(counting, replayer.settings, replayer.workflow)
    inbound_score, outbound_score = DirectionScore(), DirectionScore()
    escalated = activate_total = 0
    for n, case in enumerate(inbound):
        line = _conversation_line(
            f"in-{n}",
            [("outbound", case["previous_outbound_text"]), ("inbound", case["text"])],
        )
        outcome, _ = _last_outcome(replayer, line, n + 1)
        action = str(outcome.decision.action)
        expected = case["expected_action"]
        inbound_score.add(
            expected,
            action,
            _shown(case["previous_outbound_text"], case["text"]),
            outcome.classification,
        )
        if expected == "activate":
            activate_total += 1
            escalated += action == "escalate"
    for n, case in enumerate(outbound):
        line = _conversation_line(
            f"out-{n}",
            [("inbound", case["previous_inbound_text"]), ("outbound", case["text"])],
        )
        outcome, _ = _last_outcome(replayer, line, n + 1)
        intent = outcome.classification.intent
        got = intent if intent in OUTBOUND_SCORED else "other"
        outbound_score.add(case["expected_label"], got, case["text"], outcome.classification)
    return RealDataScore(
        inbound_score,
        outbound_score,
        escalated,
        activate_total,
        counting.encoder,
        counting.messages,
    )


def _shown(previous: str | None, text: str) -> str:
    return f"[{previous}] → {text}" if previous else text


class _CountingClassifier:
    """Passes classifications through, counting the messages and the encoder's share."""

    def __init__(self, inner: TextClassifier) -> None:
        self.inner = inner
        self.messages = 0
        self.encoder = 0

    def classify(self, text: str, direction: Any) -> Classification:
        result = self.inner.classify(text, direction)
        self.messages += 1
        self.encoder += _used_encoder(result)
        return result


def _print_direction(name: str, result: DirectionScore, baseline: DirectionScore) -> None:
    print(
        f"{name}: accuracy {result.accuracy:.4f} on {result.total} turns "
        f"(rules only {baseline.accuracy:.4f}, ratio {_ratio(result, baseline)})"
    )
    for label in result.labels():
        print(
            f"    recall {label:16} {result.recall(label):.4f}"
            f"   rules only {baseline.recall(label):.4f}"
        )
    mistakes = Counter({(e, g): n for (e, g), n in result.confusion.items() if e != g})
    for (expected, got), count in mistakes.most_common(6):
        print(f"    {count:4d} × expected {expected}, got {got}")


def _ratio(result: DirectionScore, baseline: DirectionScore) -> str:
    return f"{result.accuracy / baseline.accuracy:.3f}" if baseline.accuracy else "n/a"


def _print_errors(result: DirectionScore, limit: int) -> None:
    for expected, got, text, c in result.mistakes[:limit]:
        why = c.rule_id or c.model_version or "-"
        runner_up = (
            f"{c.alternatives[0].intent} {c.alternatives[0].confidence}" if c.alternatives else "-"
        )
        print(
            f"    expected {expected:8} got {got:8} {c.intent} {c.confidence} "
            f"({c.source}: {why}; next {runner_up}) {text!r}"
        )


def banking77_escalations(classifier: Classifier, path: Path) -> tuple[int, int, int]:
    """(escalations, of them worthy, queries) over Banking77's train queries."""
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    escalations = worthy = 0
    for row in rows:
        found = classifier.classify(row["text"], "inbound")
        if found.intent in ("urgent", "request_human"):
            escalations += 1
            said_urgent = found.rule_id == "inbound-urgent-explicit"
            worthy += row["category"] in ESCALATION_WORTHY or said_urgent
    return escalations, worthy, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="sgd")
    parser.add_argument("--data", type=Path, help="a folder in the corpus's schema")
    parser.add_argument("--rules", type=Path, default=ROOT / "rules")
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument(
        "--errors", type=int, default=0, help="print this many mistakes per direction"
    )
    parser.add_argument(
        "--banking77", action="store_true", help="also escalation precision on Banking77 train"
    )
    args = parser.parse_args()
    default_data, corpus_name = CORPORA[args.corpus]
    data: Path = args.data or default_data

    rule_set = load_rules(args.rules)
    classifier = Classifier(rule_set.intents, load_scorers(args.models))
    rules_only = Classifier(rule_set.intents)
    routing, workflow = rule_set.engine.routing, rule_set.engine.workflow
    inbound, dropped = inbound_dev_cases(data)
    outbound = read_jsonl(data / "outbound_dev.jsonl")

    result = score(classifier, Replayer(classifier, routing, workflow), inbound, outbound)
    baseline = score(rules_only, Replayer(rules_only, routing, workflow), inbound, outbound)

    print(
        f"{corpus_name}: {len(inbound)} customer turns "
        f"({dropped} more pairs also in train dropped), "
        f"{len(outbound)} agent turns; {result.messages} messages replayed"
    )
    _print_direction("inbound decisions", result.inbound, baseline.inbound)
    _print_direction("outbound intents", result.outbound, baseline.outbound)
    print(
        f"false escalations: {result.escalations_of_activate} of {result.activate_total} "
        f"activate turns ({result.false_escalation_rate:.2%}; rules only "
        f"{baseline.false_escalation_rate:.2%})"
    )
    print(f"encoder share: {result.encoder_share:.4f} of {result.messages} messages")
    extra: dict[str, float] = {}
    if args.banking77:
        escalations, worthy, queries = banking77_escalations(classifier, BANKING77)
        base_escalations, base_worthy, _ = banking77_escalations(rules_only, BANKING77)
        precision = worthy / escalations if escalations else 0.0
        print(
            f"Banking77 train, {queries} real requests: {escalations} escalations, "
            f"precision {precision:.3f} (fraud, theft, unknown payments or said urgent; "
            f"rules only {base_escalations}, precision "
            f"{base_worthy / base_escalations if base_escalations else 0.0:.3f})"
        )
        extra = {"banking77_escalation_precision": round(precision, 4)}
    if args.errors:
        print("inbound mistakes:")
        _print_errors(result.inbound, args.errors)
        print("outbound mistakes:")
        _print_errors(result.outbound, args.errors)
    print(
        json.dumps(
            {
                "bench": "realdata",
                "corpus": args.corpus,
                "inbound_decision_accuracy": round(result.inbound.accuracy, 4),
                "inbound_recall": {
                    k: round(result.inbound.recall(k), 4) for k in result.inbound.labels()
                },
                "outbound_accuracy": round(result.outbound.accuracy, 4),
                "outbound_recall": {
                    k: round(result.outbound.recall(k), 4) for k in result.outbound.labels()
                },
                "false_escalation_rate": round(result.false_escalation_rate, 4),
                "encoder_share": round(result.encoder_share, 4),
                "baseline": "rules_only",
                "ratio_inbound": round(result.inbound.accuracy / baseline.inbound.accuracy, 3),
                "ratio_outbound": round(result.outbound.accuracy / baseline.outbound.accuracy, 3),
                **extra,
            }
        )
    )


if __name__ == "__main__":
    main()
