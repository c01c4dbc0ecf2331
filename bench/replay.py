"""Replay speed: messages per second through `tidal replay`'s path (JSON line parsing and
validation, classification, a fresh engine per conversation), without file I/O.

    .venv/bin/python bench/replay.py [--conversations 400] [--repeat 3]

Conversations are generated deterministically from the held-out evaluation messages
(`training/eval`): each opens with a substantive customer message, then alternates
agent replies and customer messages drawn from the real mix, and most end with an
offer of more help and a customer's answer, so every workflow path is exercised.

Reported, each the best of `--repeat` runs:

- replay: `Replayer.replay_lines` over the whole input (what the CLI runs);
- baseline: classification alone (`Classifier.classify` on the same messages): the
  ratio replay/baseline says what fraction of classification speed survives the
  parsing and the state machine;
- engine only: replay with the classifications computed beforehand.

The last line is one JSON object for scripts.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Run by path, Python puts bench/ itself first on the import path, where a module named
# like a standard one (bench/http.py) would shadow it: import from the project root.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from tidal.engine.classify.loading import load_rules, load_scorers  # noqa: E402
from tidal.engine.classify.pipeline import Classifier  # noqa: E402
from tidal.engine.core.intents import Classification, Direction  # noqa: E402
from tidal.engine.replay import Replayer, ReplayProblem, parse_conversation  # noqa: E402

OFFERS = [
    "Is there anything else I can help you with?",
    "Anything else?",
    "Done! Anything else I can help with today?",
]
CLOSING_ANSWERS = [
    "no thanks",
    "No, that's all, thanks!",
    "thanks, bye",
    "nope",
    "actually yes, my other card is blocked too",
]


class _Precomputed:
    """A classifier that looks answers up: isolates the engine's share of replay."""

    def __init__(self, answers: dict[tuple[str, Direction], Classification]) -> None:
        self._answers = answers

    def classify(self, text: str, direction: Direction) -> Classification:
        return self._answers[(text, direction)]


def _conversations(count: int, seed: int = 7) -> list[str]:
    from tidal.training.dataset import load_directory

    examples = load_directory(ROOT / "training" / "eval")
    inbound = [e.text for e in examples if e.direction == "inbound"]
    substantive = [e.text for e in examples if e.direction == "inbound" and e.intent == "other"]
    outbound = [e.text for e in examples if e.direction == "outbound"]
    rng = random.Random(seed)
    lines = []
    for n in range(count):
        messages = [
            {
                "direction": "inbound",
                "text": rng.choice(substantive or inbound),
                "at": f"2026-11-25T{8 + n % 10:02d}:{n % 60:02d}:00Z",
            }
        ]
        for _ in range(rng.randint(1, 4)):
            messages.append({"direction": "outbound", "text": rng.choice(outbound)})
            messages.append({"direction": "inbound", "text": rng.choice(inbound)})
        if rng.random() < 0.8:
            messages.append({"direction": "outbound", "text": rng.choice(OFFERS)})
            messages.append({"direction": "inbound", "text": rng.choice(CLOSING_ANSWERS)})
        agents = [{"id": "a-1", "preferred_concurrency": 3, "max_concurrency": 5}]
        lines.append(json.dumps({"id": f"conv-{n}", "agents": agents, "messages": messages}))
    return lines


def _best(repeat: int, run: object) -> float:
    assert callable(run)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=Path, default=ROOT / "rules")
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--conversations", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rule_set = load_rules(args.rules)
    classifier = Classifier(rule_set.intents, load_scorers(args.models))
    routing, workflow = rule_set.engine.routing, rule_set.engine.workflow
    lines = _conversations(args.conversations)
    parsed = [parse_conversation(line, i + 1) for i, line in enumerate(lines)]
    messages = [(m.text, m.direction) for c in parsed for m in c.messages]

    replayer = Replayer(classifier, routing, workflow)
    results = list(replayer.replay_lines(lines, "bench"))  # warm-up, and a sanity check
    problems = [r for r in results if isinstance(r, ReplayProblem)]
    if problems or len(results) != len(messages):
        raise SystemExit(f"replay failed: {problems[:3]}")
    actions: dict[str, int] = {}
    for record in results:
        assert not isinstance(record, ReplayProblem)
        actions[record.action] = actions.get(record.action, 0) + 1

    replay_s = _best(args.repeat, lambda: list(replayer.replay_lines(lines, "bench")))
    classify_s = _best(args.repeat, lambda: [classifier.classify(t, d) for t, d in messages])
    answers = {(t, d): classifier.classify(t, d) for t, d in messages}
    engine_only = Replayer(_Precomputed(answers), routing, workflow)
    engine_s = _best(args.repeat, lambda: [engine_only.replay(c) for c in parsed])

    replay_rate = len(messages) / replay_s
    classify_rate = len(messages) / classify_s
    engine_rate = len(messages) / engine_s
    print(f"{len(lines)} conversations, {len(messages)} messages; actions {actions}")
    print(f"replay (parse + classify + engine): {replay_rate:,.0f} messages/s")
    print(
        f"baseline, classification alone:     {classify_rate:,.0f} messages/s "
        f"(replay keeps {replay_rate / classify_rate:.0%} of it)"
    )
    print(f"engine only (classifications given): {engine_rate:,.0f} messages/s")
    print(
        json.dumps(
            {
                "bench": "replay",
                "msgs_per_s": round(replay_rate),
                "baseline": "classify_only",
                "baseline_msgs_per_s": round(classify_rate),
                "ratio_to_baseline": round(replay_rate / classify_rate, 3),
                "engine_only_msgs_per_s": round(engine_rate),
                "messages": len(messages),
            }
        )
    )


if __name__ == "__main__":
    main()
