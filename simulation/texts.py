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


#: the SGD turns the simulator ships with (see data/README.md for source and licence)
EXTRACT = Path(__file__).parent / "data" / "sgd_turns.json"
EXTRACT_PER_POOL = 3000
SGD_ROLES = ("opening", "followup", "decline", "thanks", "answer", "offer", "closing")


def sgd_texts(sgd_dir: Path) -> dict[str, list[str]]:
    """Train-split turns of `sgd-workflow` by role (its dev split is never read)."""
    found: dict[str, list[str]] = {role: [] for role in SGD_ROLES}
    for row in _jsonl(sgd_dir / "inbound_train.jsonl"):
        action, text = row["expected_action"], str(row["text"])
        if action == "activate":
            opening = row["previous_outbound_text"] is None
            found["opening" if opening else "followup"].append(text)
        elif action == "close":
            found["decline"].append(text)
        elif action == "ignore":
            found["thanks"].append(text)
    roles = {"other": "answer", "offer_more_help": "offer", "closing": "closing"}
    for row in _jsonl(sgd_dir / "outbound_train.jsonl"):
        found[roles[str(row["expected_label"])]].append(str(row["text"]))
    return found


def write_extract(sgd_dir: Path, path: Path = EXTRACT, per_pool: int = EXTRACT_PER_POOL) -> Path:
    """The shipped extract: every role deduplicated, capped by a fixed-seed sample."""
    pools = {role: _capped(texts, role, per_pool) for role, texts in sgd_texts(sgd_dir).items()}
    document = {
        "source": "sgd-workflow train split (Schema-Guided Dialogue, Rastogi et al., 2020)",
        "licence": "CC BY-SA 4.0",
        "per_pool": per_pool,
        "pools": pools,
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    return path


def load_pools(
    training_dir: Path, sgd_dir: Path | None = None, extract: Path = EXTRACT
) -> TextPools:
    """Texts by role: SGD turns (the full train files if `sgd_dir` is given, else the
    shipped extract) and Tidal's own contact-center examples."""
    if sgd_dir is not None:
        sources = sgd_texts(sgd_dir)
    else:
        if not extract.is_file():
            raise TextsMissing(f"{extract}: not found (the SGD extract)")
        sources = {k: list(v) for k, v in json.loads(extract.read_text("utf-8"))["pools"].items()}
    sources["away"] = []
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
        unique = tuple(sorted(set(sources.get(role, []))))
        if not unique:
            raise TextsMissing(f"no texts for {role!r}")
        pools[role] = unique
    return TextPools(pools)


def _capped(texts: list[str], role: str, per_pool: int) -> list[str]:
    unique = sorted(set(texts))
    if len(unique) > per_pool:
        unique = sorted(random.Random(f"pool:{role}").sample(unique, per_pool))
    return unique


def _jsonl(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        raise TextsMissing(f"{path}: not found (the sgd-workflow data set)")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _yaml_examples(path: Path, intent: str) -> list[str]:
    if not path.is_file():
        raise TextsMissing(f"{path}: not found (Tidal's training data)")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    examples = data.get("intents", {}).get(intent, [])
    return [str(e["text"] if isinstance(e, dict) else e) for e in examples]
