"""Wall time of a simulated contact-center day (`tidal simulate`), real engine and classifier.

Days, each under the `adaptive` policy on its own seeded traffic:

- 100 agents, 20,000 conversations (the size the simulator must finish in 2 minutes);
- 1,000 agents, 50,000 conversations (the same conversations per agent as the
  documented 400-agent day).

The classifier is warmed on every text of the pools first (one-off cost, printed apart),
so the days measure the event loop and the engine. The ratio is the 1,000-agent day's
time over the 100-agent day's, in the same process.

Run: .venv/bin/python -m bench.simulate_speed [--write]
(--write also stores docs/simulation/speed.json for the results page)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tidal.engine.classify.loading import load_classifier, load_rules
from tidal.engine.core.intents import Direction
from tidal.simulation.classifying import CachedClassifier
from tidal.simulation.day import Day
from tidal.simulation.policies import parse_policy
from tidal.simulation.texts import load_pools
from tidal.simulation.traffic import generate

ROOT = Path(__file__).resolve().parents[1]
DAYS = (("100 agents", 100, 20_000), ("1,000 agents", 1_000, 50_000))


def main() -> None:
    rule_set = load_rules(ROOT / "rules")
    texts = load_pools(ROOT / "training" / "data")
    classify = CachedClassifier(load_classifier(ROOT / "rules", ROOT / "models"))
    started = time.perf_counter()
    for role, pool in texts.pools.items():
        direction: Direction = "inbound" if texts.direction_of(role) == "inbound" else "outbound"
        for text in pool:
            classify(text, direction)
    warm = time.perf_counter() - started
    print(f"classifier warmed on {classify.misses:,} texts in {warm:.1f} s")
    policy = parse_policy("adaptive")
    days = []
    for name, agents, conversations in DAYS:
        traffic = generate(7, conversations, agents, texts)
        day = Day(
            traffic,
            policy.routing(rule_set.engine.routing),
            policy.workflow(rule_set.engine.workflow),
            texts,
            classify,
        )
        started = time.perf_counter()
        observations = day.run()
        seconds = time.perf_counter() - started
        days.append(
            {
                "name": name,
                "agents": agents,
                "conversations": conversations,
                "messages": observations.messages,
                "seconds": round(seconds, 2),
            }
        )
        print(
            f"{name:>12}: {conversations:>6,} conversations, {observations.messages:>7,} "
            f"messages in {seconds:6.1f} s ({observations.messages / seconds:,.0f} messages/s)"
        )
    ratio = days[1]["seconds"] / days[0]["seconds"]
    print(f"1,000-agent day / 100-agent day: {ratio:.2f}x")
    if "--write" in sys.argv[1:]:
        out = ROOT / "docs" / "simulation" / "speed.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {"days": days, "warm_classifier_seconds": round(warm, 2), "texts": classify.misses},
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
    print(
        json.dumps(
            {
                "bench": "simulate_speed",
                "day_100_agents_seconds": days[0]["seconds"],
                "day_1000_agents_seconds": days[1]["seconds"],
                "ratio_1000_to_100": round(ratio, 3),
                "warm_classifier_seconds": round(warm, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
