"""SGD workflow turns (`sgd-workflow/*.jsonl`) → Tidal `Example`s, and the dev split kept
for validation.

The turns come from the Schema-Guided Dialogue corpus, labelled from its dialogue acts
(the data's README says how). Customer turns carry a workflow *decision* (close, ignore,
activate) and only soft intents, so each text gets the Tidal intent that leads to that
decision under the shipped workflow rules (`rules/workflow.yaml`):

- `close` turns all follow an offer of more help, where deny, gratitude and goodbye
  all close: a text with a farewell is `goodbye`, one that refuses ("no", "that's all",
  "I'm good") `deny`, a bare thanks `gratitude` (the intents the data lists are scripted
  and often wrong: 1,117 of 4,286 train close texts say no thanks word).
- `ignore` turns are thanks after an agent's report: `gratitude` (or
  `acknowledgement` when no thanks word is there).
- `activate` turns are `other` when they carry something to act on (an intent, a
  request, information: acts INFORM_INTENT, INFORM, REQUEST, REQUEST_ALTS). Bare
  acceptances and refusals of an offered task ("Yes, please!", "Not now") are left out:
  they are Tidal's affirm and deny, which already activate outside an offer of more
  help, and teaching the model that "no thanks" is `other` would break closing.

Agent turns keep their label (offer_more_help, closing, other).

A text is used once; a text the data gives two labels is left out. The mix is sampled
(fixed seed) so that SGD's volume does not swamp Tidal's own intents: `other` is capped,
with turns that follow an offer of more help first (a new request after "anything
else?" is the contrast to a closing "no thanks").

The contested file (`inbound_train_contested.jsonl`) is never read: its labels are the
literal rule's, which the data's authors say not to train on.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tidal.engine.core.intents import FALLBACK_INTENT, Direction
from tidal.engine.rulesio.errors import FileError, FilesInvalid
from tidal.training.dataset import Example, text_key

SOURCE = (
    "Schema-Guided Dialogue (Rastogi, Zang, Sunkara, Gupta, Khaitan, AAAI 2020), "
    "github.com/google-research-datasets/dstc8-schema-guided-dialogue commit e852981; "
    "train split, workflow labels derived from its dialogue acts (sgd-workflow); "
    "utterances copied verbatim, selected and relabelled to Tidal intents by "
    "training/importers/sgd.py"
)
LICENCE = "CC BY-SA 4.0"
SEED = 20261207

INBOUND_TRAIN = "inbound_train.jsonl"
OUTBOUND_TRAIN = "outbound_train.jsonl"
#: Files copied unchanged for validation (`bench/realdata.py`), with the attribution.
INBOUND_DEV = "inbound_dev.jsonl"
VALIDATION_FILES = ("README.md", "build_summary.json", INBOUND_DEV, "outbound_dev.jsonl")

#: Acts that give the agent something to do.
SUBSTANTIVE_ACTS = frozenset({"INFORM_INTENT", "INFORM", "REQUEST", "REQUEST_ALTS"})
OUTBOUND_LABELS = frozenset({"offer_more_help", "closing", "other"})
INBOUND_ACTIONS = frozenset({"close", "ignore", "activate"})

_FAREWELL = re.compile(
    r"\b(bye|goodbye|good night|see you|take care|have a (nice|good|great|lovely|wonderful) "
    r"(day|one|evening|night|weekend))\b",
    re.IGNORECASE,
)
_REFUSAL = re.compile(
    r"\b(no|nope|nah|not|nothing|none|that'?s (all|it|everything)|that is (all|it)|"
    r"that (will|would) be (all|it)|all set|i'?m (good|fine|set|done)|i am (good|fine|done)|"
    r"all good|done for now|for now)\b",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"\b(thanks?|thank you|thx|ty|appreciate[d]?|grateful|cheers)\b", re.IGNORECASE
)


#: The intent a shipped intent rule gives a text, or None when no rule matches.
RuleIntent = Callable[[str], str | None]


@dataclass
class Selection:
    """The examples chosen for one direction and what was left out, by reason."""

    examples: list[Example]
    skipped: Counter[str] = field(default_factory=Counter)


def read_jsonl(path: Path, required: Iterable[str]) -> list[dict[str, Any]]:
    """Every object of a JSON-lines file; `FilesInvalid` lists every bad line."""
    shown = str(path)
    needed = tuple(required)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise FilesInvalid([FileError(shown, 1, "T008", str(exc))]) from exc
    rows: list[dict[str, Any]] = []
    errors: list[FileError] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(FileError(shown, number, "T001", f"invalid JSON: {exc.msg}"))
            continue
        missing = [k for k in needed if not isinstance(row, dict) or k not in row]
        if missing:
            errors.append(FileError(shown, number, "T003", f"missing {', '.join(missing)}"))
            continue
        if not isinstance(row["text"], str) or not row["text"].strip():
            errors.append(FileError(shown, number, "T003", "empty or non-string text"))
            continue
        row["_line"] = number
        rows.append(row)
    if not rows and not errors:
        errors.append(FileError(shown, 1, "T008", "the file holds no turns"))
    if errors:
        raise FilesInvalid(errors)
    return rows


def inbound_intent(case: dict[str, Any]) -> str | None:
    """The Tidal intent of one customer turn, or None to leave it out."""
    text, action = case["text"], case["expected_action"]
    if action == "close":
        if _FAREWELL.search(text):
            return "goodbye"
        if _REFUSAL.search(text):
            return "deny"
        return "gratitude" if _THANKS.search(text) else None
    if action == "ignore":
        return "gratitude" if _THANKS.search(text) else "acknowledgement"
    if action == "activate" and SUBSTANTIVE_ACTS.intersection(case.get("user_acts") or ()):
        return FALLBACK_INTENT
    return None


def select_inbound(
    cases: list[dict[str, Any]],
    path: str,
    *,
    max_other: int,
    max_per_intent: int,
    exclude: frozenset[str] = frozenset(),
    rule_intent: RuleIntent | None = None,
) -> Selection:
    """Customer turns as examples: mapped, unique, conflicts out, sampled."""
    candidates: list[tuple[Example, bool]] = []
    skipped: Counter[str] = Counter()
    for case in cases:
        action = case["expected_action"]
        if action not in INBOUND_ACTIONS:
            skipped["unknown action"] += 1
            continue
        intent = inbound_intent(case)
        if intent is None:
            skipped[f"{action}: no Tidal intent"] += 1
            continue
        after_offer = "REQ_MORE" in (case.get("previous_outbound_acts") or ())
        candidates.append(
            (Example(case["text"], intent, "inbound", path, case["_line"]), after_offer)
        )
    return _sample(candidates, skipped, max_other, max_per_intent, exclude, rule_intent)


def select_outbound(
    cases: list[dict[str, Any]],
    path: str,
    *,
    max_other: int,
    max_per_intent: int,
    exclude: frozenset[str] = frozenset(),
    rule_intent: RuleIntent | None = None,
    composites: int = 0,
) -> Selection:
    """Agent turns as examples, with their labels: unique, conflicts out, sampled; plus
    `composites` offers of more help that follow a report (see `composite_offers`)."""
    candidates: list[tuple[Example, bool]] = []
    skipped: Counter[str] = Counter()
    for case in cases:
        label = case.get("expected_label")
        if label not in OUTBOUND_LABELS:
            skipped["unknown label"] += 1
            continue
        candidates.append((Example(case["text"], label, "outbound", path, case["_line"]), False))
    selection = _sample(candidates, skipped, max_other, max_per_intent, exclude, rule_intent)
    selection.examples.extend(composite_offers(cases, path, composites))
    return selection


def composite_offers(cases: list[dict[str, Any]], path: str, count: int) -> list[Example]:
    """Offers of more help after a report, joined from two real turns of the data.

    SGD's agents mostly offer more help in a turn of its own ("Anything else?"), while
    contact-center agents write "Your refund is on its way. Anything else I can do?",
    and SGD annotates the few such turns it has as plain reports. Joining a report
    (acts NOTIFY_SUCCESS or INFORM, no question) to a bare offer teaches the model that
    the last sentence decides. Each example names both source lines.
    """
    reports = [
        c
        for c in cases
        if c.get("expected_label") == "other"
        and set(c.get("acts") or ()) <= {"NOTIFY_SUCCESS", "INFORM"}
        and "?" not in c["text"]
        and c["text"].rstrip().endswith((".", "!"))
    ]
    offers = [
        c
        for c in cases
        if c.get("expected_label") == "offer_more_help" and c["text"].rstrip().endswith("?")
    ]
    if not reports or not offers or count <= 0:
        return []
    rng = random.Random(SEED + 1)
    joined: list[Example] = []
    for _ in range(count):
        report, offer = rng.choice(reports), rng.choice(offers)
        text = f"{report['text'].strip()} {offer['text'].strip()}"
        joined.append(Example(text, "offer_more_help", "outbound", path, report["_line"]))
    return joined


def _sample(
    candidates: list[tuple[Example, bool]],
    skipped: Counter[str],
    max_other: int,
    max_per_intent: int,
    exclude: frozenset[str],
    rule_intent: RuleIntent | None,
) -> Selection:
    """Unique texts with one label, none of Tidal's own, none a rule contradicts; then
    at most `max_other` of `other` and `max_per_intent` of each other intent.

    A rule that gives a text a different intent is trusted over the annotation (SGD
    marks some "... Anything else I can do?" turns as plain reports).
    """
    labels_of: dict[str, set[str]] = {}
    for example, _ in candidates:
        labels_of.setdefault(text_key(example.text), set()).add(example.intent)
    seen: set[str] = set()
    by_intent: dict[str, list[tuple[Example, bool]]] = {}
    for example, preferred in candidates:
        key = text_key(example.text)
        if not key:
            skipped["no words"] += 1
        elif len(labels_of[key]) > 1:
            skipped["text with two labels"] += 1
        elif key in exclude:
            skipped["text already in Tidal's data"] += 1
        elif key in seen:
            skipped["repeated text"] += 1
        elif rule_intent is not None and _contradicted(rule_intent(example.text), example.intent):
            skipped["label a rule contradicts"] += 1
        else:
            seen.add(key)
            by_intent.setdefault(example.intent, []).append((example, preferred))
    rng = random.Random(SEED)
    chosen: list[Example] = []
    for intent in sorted(by_intent):
        pool = by_intent[intent]
        rng.shuffle(pool)
        pool.sort(key=lambda item: not item[1])  # stable: preferred first, shuffled within
        cap = max_other if intent == FALLBACK_INTENT else max_per_intent
        skipped["sampled out"] += max(0, len(pool) - cap)
        chosen.extend(example for example, _ in pool[:cap])
    return Selection(chosen, skipped)


def _contradicted(by_rule: str | None, label: str) -> bool:
    return by_rule is not None and by_rule != label


def pair_key(previous: str | None, text: str) -> tuple[str, str]:
    """The data's deduplication key of a customer turn: case and runs of spaces ignored."""
    return (" ".join((previous or "").lower().split()), " ".join(text.lower().split()))


def copy_validation(source: Path, target: Path) -> tuple[list[Path], int]:
    """Copy the dev files and the attribution into `target`; customer turns whose
    (previous agent text, text) pair also occurs in train are left out, so validation
    is disjoint from training. Returns the files written and how many pairs went."""
    target.mkdir(parents=True, exist_ok=True)
    for name in VALIDATION_FILES:
        if not (source / name).is_file():
            raise FilesInvalid([FileError(str(source / name), 1, "T008", "file not found")])
    train = {
        pair_key(c["previous_outbound_text"], c["text"]) for c in read_train(source, "inbound")
    }
    copied, dropped = [], 0
    for name in VALIDATION_FILES:
        if name != INBOUND_DEV:
            shutil.copyfile(source / name, target / name)
        else:
            kept = []
            for line in (source / name).read_text(encoding="utf-8").splitlines(keepends=True):
                if not line.strip():
                    continue
                case = json.loads(line)
                if pair_key(case.get("previous_outbound_text"), case.get("text", "")) in train:
                    dropped += 1
                else:
                    kept.append(line)
            (target / name).write_text("".join(kept), encoding="utf-8")
        copied.append(target / name)
    return copied, dropped


def read_train(source: Path, direction: Direction) -> list[dict[str, Any]]:
    """The train turns of one direction from an sgd-workflow folder."""
    if direction == "inbound":
        return read_jsonl(
            source / INBOUND_TRAIN, ("text", "expected_action", "previous_outbound_text")
        )
    return read_jsonl(source / OUTBOUND_TRAIN, ("text", "expected_label", "acts"))
