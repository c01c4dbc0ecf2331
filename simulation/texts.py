"""Real message text for simulated conversations.

Customer and agent turns come from the Schema-Guided Dialogue train split as packaged
in `sgd-workflow` (never its dev split, which evaluation uses) and from Tidal's own
training data (`training/data`). Texts are drawn by role, not by label: the simulator
never tells the engine what a text means. The real classifier decides, so a
misclassification has the effect it would have in production.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import yaml

#: text roles a conversation plan draws from
ROLES = ("opening", "followup", "decline", "thanks", "away", "answer", "offer", "closing")
INBOUND_ROLES = frozenset({"opening", "followup", "decline", "thanks", "away"})


class TextsMissing(Exception):
    """The data files a simulation needs are not where they were looked for."""


@dataclass(frozen=True, slots=True)
class TextPools:
    """Texts per role, each pool deduplicated and in a fixed order."""

    pools: dict[str, tuple[str, ...]]

    def draw(self, role: str, rng: random.Random) -> str:
        pool = self.pools[role]
        return pool[rng.randrange(len(pool))]

    def direction_of(self, role: str) -> str:
        return "inbound" if role in INBOUND_ROLES else "outbound"

    def all_texts(self) -> dict[str, set[str]]:
        """Every text by direction (for classifying once, up front)."""
        found: dict[str, set[str]] = {"inbound": set(), "outbound": set()}
        for role, pool in self.pools.items():
            found[self.direction_of(role)].update(pool)
        return found


def load_pools(sgd_dir: Path, training_dir: Path, *, per_pool: int | None = None) -> TextPools:
    """Build the pools; `per_pool` caps each pool with a fixed-seed sample."""
    inbound = _jsonl(sgd_dir / "inbound_train.jsonl")
    outbound = _jsonl(sgd_dir / "outbound_train.jsonl")
    sources: dict[str, list[str]] = {role: [] for role in ROLES}
    for row in inbound:
        action, text = row["expected_action"], row["text"]
        if action == "activate":
            opening = row["previous_outbound_text"] is None
            sources["opening" if opening else "followup"].append(text)
        elif action == "close":
            sources["decline"].append(text)
        elif action == "ignore":
            sources["thanks"].append(text)
    for row in outbound:
        role = {"other": "answer", "offer_more_help": "offer", "closing": "closing"}
        sources[role[row["expected_label"]]].append(row["text"])
    # contact-center requests and the short messages SGD lacks ("brb", "thx") come from
    # Tidal's own hand-written training data
    own_inbound = training_dir / "inbound"
    for path in sorted(own_inbound.glob("other_*.yaml")):
        sources["opening"] += _yaml_examples(path, "other")
    sources["away"] += _yaml_examples(own_inbound / "away.yaml", "away")
    sources["thanks"] += _yaml_examples(own_inbound / "gratitude.yaml", "gratitude")
    own_outbound = training_dir / "outbound"
    sources["offer"] += _yaml_examples(own_outbound / "offer_more_help.yaml", "offer_more_help")
    sources["closing"] += _yaml_examples(own_outbound / "closing.yaml", "closing")
    pools: dict[str, tuple[str, ...]] = {}
    for role in ROLES:
        unique = sorted(set(sources[role]))
        if not unique:
            raise TextsMissing(f"no texts for {role!r} under {sgd_dir} and {training_dir}")
        if per_pool is not None and len(unique) > per_pool:
            unique = sorted(random.Random(f"pool:{role}").sample(unique, per_pool))
        pools[role] = tuple(unique)
    return TextPools(pools)


def _jsonl(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        raise TextsMissing(f"{path}: not found (the sgd-workflow data set)")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _yaml_examples(path: Path, intent: str) -> list[str]:
    if not path.is_file():
        raise TextsMissing(f"{path}: not found (Tidal's training data)")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples = data.get("intents", {}).get(intent, [])
    return [str(e["text"] if isinstance(e, dict) else e) for e in examples]
