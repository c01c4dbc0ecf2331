"""MultiWOZ dialogues → workflow-labelled turns in the schema of `sgd-workflow`.

MultiWOZ (Budzianowski et al., EMNLP 2018; dialogue acts of version 2.1, Eric et al.
2020; MIT licence) is a corpus of human-human, Wizard-of-Oz dialogues about a tourist
information centre: other people, another collection method and another annotation
scheme than SGD. Tidal's models never saw it, so its turns measure how the classifier
carries over to dialogues of another origin (`bench/realdata.py --corpus multiwoz`).

Input: MultiWOZ 2.1's log format, `{dialogue id: {"log": [turn, ...]}}`, turns
alternating customer / agent, each with `text` and `dialog_act` (`{"Hotel-Inform":
[[slot, value], ...], "general-reqmore": [["none", "none"]]}`), as one JSON file per
split (`val.json` or `dev.json`, `train.json`, optionally zipped; ConvLab-2 ships
MultiWOZ 2.1 this way). The test split is never read.

MultiWOZ's `general-reqmore` is wider than SGD's REQ_MORE: its annotators also put it
on specific follow-up questions ("Would you like the address?", "Does that work for
you?"), and they sometimes left an "Is there anything else I can do?" unannotated. Two
text checks, in the spirit of sgd-workflow's ignore checks, leave such turns out rather
than give them a label their words contradict: an offer of more help must have an
open-ended word (`else`, `further`, `other`, `more`, `additional`, `anything`,
`everything`, `all`, `need(s)`), and an agent turn labelled `other` must not ask for
"anything else" / "something more" or "will that be all". `build_summary.json` counts
both; `inbound_action(..., literal=True)` and `outbound_label(..., literal=True)` give
the labels without them.

The labelling rules are those of the sgd-workflow README, mapped onto MultiWOZ's acts
(`general-*` acts are domain-free; every other act is `Domain-Act`):

Customer turns, first rule that applies:

1. **activate** if the customer does anything substantive: any domain act (`Inform`,
   `Request`, also `Booking-Inform` "yes, book it"). Intents `["other"]`.
2. **close** if the agent's previous turn offered more help (as labelled below:
   `general-reqmore` without a question, an offer or a failure, with an open-ended word),
   and the customer only thanks and/or says goodbye (`general-thank`, `general-bye`) and
   asks nothing ("?"). MultiWOZ has no act for "no": "No, that's all" is annotated as
   thanks or not at all.
3. **ignore** if the customer only thanks (`general-thank` alone) after an agent's turn
   that reported something without offering more help or asking anything (no
   `general-reqmore`, no question or offer acts, no "?" in its text), the customer asks
   nothing ("?") and the customer's text has no closing phrase ("that's all", "bye", ...).
4. Everything else is left out: turns without acts (about one customer turn in twelve),
   greetings, thanks or goodbyes after a question, an offer or a farewell.

Agent turns: **closing** if the acts include `general-bye`; **offer_more_help** if
they include `general-reqmore` and otherwise only reports (`Inform`, `Book`,
`OfferBooked`, `general-welcome`, `general-greet`), with an open-ended word; **other**
for turns with acts and neither of those. Left out: `general-reqmore` with a failure
(`NoOffer`, `NoBook`, as SGD's NOTIFY_FAILURE + REQ_MORE) or with a question or offer
(the label would depend on which sentence one reads), turns whose only acts are
`general-welcome` and `general-greet` (MultiWOZ's agents "greet" when they part: "Have a
great day!", and "You're welcome." alone is neither offer nor farewell), and turns
without acts.

Texts: ConvLab-2's copy is tokenised ("does n't", "Thanks !"); `detokenize` joins
clitics and punctuation back ("doesn't", "Thanks!"), which gives the text as people
typed it in all but rare cases (spacing around quotes and hyphens).

Deduplication and sampling as for sgd-workflow: customer turns unique by (previous agent
text, text), agent turns by text, case and runs of spaces ignored; pairs or texts with
two labels dropped. Every close, ignore, offer_more_help and closing case is kept;
`activate` and `other` are capped by weighted round robin over act signatures (strata
after an offer of more help weigh 3: a new request after "anything else?" is the hard
contrast to a close).
"""

from __future__ import annotations

import json
import random
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tidal.engine.rulesio.errors import FileError, FilesInvalid

SOURCE = (
    "MultiWOZ 2.1 (Budzianowski et al., EMNLP 2018; Eric et al., LREC 2020), as shipped "
    "by github.com/thu-coai/ConvLab-2 (data/multiwoz); workflow labels derived from its "
    "dialogue acts by training/importers/multiwoz.py"
)
LICENCE = "MIT"
SEED = 20261207

#: Split → file names tried in the source folder (plain JSON first, then zipped).
SPLIT_FILES: dict[str, tuple[str, ...]] = {
    "dev": ("val.json", "dev.json"),
    "train": ("train.json",),
}
#: Most `activate` customer turns and `other` agent turns kept per split.
ACTIVATE_CAP = 3000
OTHER_CAP = 1500
#: Strata that follow an offer of more help weigh this much in the round robin.
AFTER_OFFER_WEIGHT = 3

REQ_MORE = "general-reqmore"
THANK = "general-thank"
BYE = "general-bye"
WELCOME = "general-welcome"
GREET = "general-greet"
#: Agent act types (domain stripped) that ask the customer something or offer something.
QUESTION_OR_OFFER = frozenset({"Request", "Select", "Recommend", "OfferBook"})
#: `Booking-Inform` from the agent is "shall I book it?"; `Booking-Request` asks details.
QUESTION_OR_OFFER_FULL = frozenset({"Booking-Inform", "Booking-Request"})
#: Agent act types that report a failure.
FAILURE = frozenset({"NoOffer", "NoBook"})
#: Agent act types that only report (SGD's INFORM / NOTIFY_SUCCESS).
REPORT = frozenset({"Inform", "Book", "OfferBooked"})

#: A customer text with one of these closes rather than thanks (the ignore text check).
_CLOSING_PHRASE = re.compile(
    r"\b(bye|goodbye|good night|that'?s (all|it|everything)|that is (all|it|everything)|"
    r"that (will|would|should) (be|do)|that was (all|it|everything)|all i need(ed)?|"
    r"nothing else|no more|i'?m (all )?(set|good|done)|i am (all )?(set|good|done)|"
    r"have a (nice|good|great|lovely|wonderful)|take care|see you|for now)\b",
    re.IGNORECASE,
)


#: An offer of more help is open-ended: "anything else?", not "would you like the address?".
_OPEN_ENDED = re.compile(
    r"\b(else|further|other|more|additional|anything|everything|all|needs?)\b", re.IGNORECASE
)
#: An agent asking for more without the act annotated ("Booked. Anything else today?").
_UNANNOTATED_OFFER = re.compile(
    r"\b(anything|something)\s+(else|further|more)\b|\bthat\s+be\s+(all|everything|it)\b",
    re.IGNORECASE,
)


def detokenize(text: str) -> str:
    """Undo the word tokenisation of ConvLab-2's MultiWOZ texts."""
    out = " ".join(text.split())
    out = re.sub(r" n't\b", "n't", out)
    out = re.sub(r" '(s|m|d|ll|re|ve)\b", r"'\1", out, flags=re.IGNORECASE)
    out = re.sub(r" ([.,!?;:%)])", r"\1", out)
    out = re.sub(r"\( ", "(", out)
    return out.strip()


def act_names(turn: dict[str, Any]) -> list[str]:
    """The turn's dialogue acts (`Domain-Act`), each once, in order of appearance."""
    acts = turn.get("dialog_act") or {}
    return list(dict.fromkeys(acts)) if isinstance(acts, dict) else []


def _kind(act: str) -> str:
    """`Hotel-Inform` → `Inform`; `general-*` acts keep their name."""
    return act if act.startswith("general-") else act.split("-", 1)[-1]


def _substantive(acts: Iterable[str]) -> bool:
    return any(not a.startswith("general-") for a in acts)


def _asks_or_offers(acts: Iterable[str]) -> bool:
    return any(_kind(a) in QUESTION_OR_OFFER or a in QUESTION_OR_OFFER_FULL for a in acts)


def inbound_action(
    user_acts: Sequence[str],
    text: str,
    previous_acts: Sequence[str] | None,
    previous_text: str,
    *,
    literal: bool = False,
) -> tuple[str | None, str]:
    """(close / ignore / activate, or None to leave out; the reason). `literal`: the
    act rules alone, without the text checks."""
    if _substantive(user_acts):
        return "activate", "substantive"
    if not user_acts:
        return None, "skip:no acts"
    only = set(user_acts)
    if previous_acts is None:
        return None, "skip:no agent turn before"
    if not literal and only <= {THANK, BYE} and "?" in text:
        return None, "skip:thanks that ask something (acts missed)"
    previous_label, _ = outbound_label(previous_acts, previous_text, literal=literal)
    if previous_label == "offer_more_help" and only <= {THANK, BYE}:
        return "close", "close"
    if REQ_MORE in previous_acts and only <= {THANK, BYE}:
        return None, "skip:thanks after a reqmore turn that is no offer of more help"
    if only == {THANK}:
        if REQ_MORE in previous_acts or _asks_or_offers(previous_acts) or "?" in previous_text:
            return None, "skip:thanks after a question or an offer"
        if BYE in previous_acts:
            return None, "skip:thanks after a farewell"
        if _CLOSING_PHRASE.search(text):
            return None, "skip:ignore text check"
        return "ignore", "ignore"
    return None, "skip:" + "+".join(sorted(only))


def inbound_intents(action: str, user_acts: Sequence[str]) -> list[str]:
    if action == "activate":
        return ["other"]
    if action == "ignore":
        return ["gratitude"]
    named = {THANK: "gratitude", BYE: "goodbye"}
    return [named[a] for a in (THANK, BYE) if a in user_acts]


def outbound_label(
    acts: Sequence[str], text: str, *, literal: bool = False
) -> tuple[str | None, str]:
    """(offer_more_help / closing / other, or None to leave out; the reason). `literal`:
    the act rules alone, without the text checks."""
    if not acts:
        return None, "skip:no acts"
    if BYE in acts:
        return "closing", "closing"
    kinds = {_kind(a) for a in acts}
    if REQ_MORE in acts:
        if kinds & FAILURE:
            return None, "skip:reqmore with a failure"
        if _asks_or_offers(acts):
            return None, "skip:reqmore with a question or offer"
        if not kinds - {REQ_MORE, WELCOME, GREET} <= REPORT:
            return None, "skip:reqmore with " + "+".join(sorted(kinds - {REQ_MORE}))
        if not literal and not _OPEN_ENDED.search(text):
            return None, "skip:reqmore on a specific question (no open-ended word)"
        return "offer_more_help", "offer_more_help"
    if kinds <= {WELCOME, GREET}:
        return None, "skip:welcome or greet alone"
    if not literal and _UNANNOTATED_OFFER.search(text):
        return None, "skip:offer of more help without the act"
    return "other", "other"


def _signature(acts: Iterable[str]) -> str:
    return "+".join(sorted({_kind(a) for a in acts}))


def _key(text: str | None) -> str:
    return " ".join((text or "").lower().split())


@dataclass
class SplitTurns:
    """One split's labelled turns and the counts of how they were chosen."""

    inbound: list[dict[str, Any]]
    outbound: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)


def read_split(source: Path, split: str) -> dict[str, Any] | None:
    """The dialogues of one split of a MultiWOZ folder, or None if it has none."""
    if split not in SPLIT_FILES:
        raise ValueError(f"MultiWOZ split {split!r} is not read (only {sorted(SPLIT_FILES)})")
    for name in SPLIT_FILES[split]:
        for path in (source / name, source / f"{name}.zip"):
            if path.is_file():
                return _load(path, name)
    return None


def _load(path: Path, name: str) -> dict[str, Any]:
    try:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                raw = archive.read(name)
        else:
            raw = path.read_bytes()
        data = json.loads(raw)
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise FilesInvalid([FileError(str(path), 1, "T008", str(exc))]) from exc
    if not isinstance(data, dict) or not all(
        isinstance(d, dict) and isinstance(d.get("log"), list) for d in data.values()
    ):
        raise FilesInvalid(
            [FileError(str(path), 1, "T003", "not MultiWOZ 2.1 dialogues ({id: {log: [...]}})")]
        )
    return data


def label_split(dialogues: dict[str, Any], split: str, *, literal: bool = False) -> SplitTurns:
    """Label, deduplicate and sample one split's turns (`literal`: without text checks)."""
    inbound_raw: list[dict[str, Any]] = []
    outbound_raw: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    for dialogue_id in sorted(dialogues):
        log = dialogues[dialogue_id]["log"]
        for index, turn in enumerate(log):
            text = detokenize(str(turn.get("text") or ""))
            if not text:
                skipped["empty text"] += 1
                continue
            acts = act_names(turn)
            where = f"multiwoz/{split}/{dialogue_id}/{index}"
            if index % 2 == 0:
                previous = log[index - 1] if index else None
                previous_text = detokenize(str(previous.get("text") or "")) if previous else ""
                previous_acts = act_names(previous) if previous else None
                action, reason = inbound_action(
                    acts, text, previous_acts, previous_text, literal=literal
                )
                if action is None:
                    skipped["inbound " + reason] += 1
                    continue
                inbound_raw.append(
                    {
                        "id": f"multiwoz-{split}-{dialogue_id}-{index}",
                        "source": where,
                        "previous_outbound_text": previous_text or None,
                        "previous_outbound_acts": previous_acts or [],
                        "text": text,
                        "user_acts": acts,
                        "expected_action": action,
                        "expected_intents": inbound_intents(action, acts),
                    }
                )
            else:
                label, reason = outbound_label(acts, text, literal=literal)
                if label is None:
                    skipped["outbound " + reason] += 1
                    continue
                outbound_raw.append(
                    {
                        "id": f"multiwoz-{split}-out-{dialogue_id}-{index}",
                        "source": where,
                        "previous_inbound_text": detokenize(str(log[index - 1].get("text") or "")),
                        "text": text,
                        "acts": acts,
                        "expected_label": label,
                    }
                )
    inbound, in_counts = _unique(
        inbound_raw,
        lambda c: (_key(c["previous_outbound_text"]), _key(c["text"])),
        "expected_action",
    )
    outbound, out_counts = _unique(outbound_raw, lambda c: _key(c["text"]), "expected_label")
    inbound, in_strata = _cap(
        inbound,
        "expected_action",
        "activate",
        ACTIVATE_CAP,
        lambda c: (
            _signature(c["user_acts"])
            + (" |prev reqmore" if REQ_MORE in c["previous_outbound_acts"] else "")
        ),
    )
    outbound, out_strata = _cap(
        outbound, "expected_label", "other", OTHER_CAP, lambda c: _signature(c["acts"])
    )
    summary = {
        "dialogues": len(dialogues),
        "inbound_raw": dict(Counter(c["expected_action"] for c in inbound_raw)),
        "outbound_raw": dict(Counter(c["expected_label"] for c in outbound_raw)),
        **{f"inbound_{k}": v for k, v in in_counts.items()},
        **{f"outbound_{k}": v for k, v in out_counts.items()},
        "inbound_file_counts": dict(Counter(c["expected_action"] for c in inbound)),
        "outbound_file_counts": dict(Counter(c["expected_label"] for c in outbound)),
        "inbound_activate_strata": in_strata,
        "outbound_other_strata": out_strata,
        "skipped": dict(sorted(skipped.items())),
    }
    return SplitTurns(inbound, outbound, summary)


def _unique(
    rows: list[dict[str, Any]], key: Any, label: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """First row of each key; keys seen with two labels dropped entirely."""
    labels: dict[Any, set[str]] = {}
    for row in rows:
        labels.setdefault(key(row), set()).add(row[label])
    seen: set[Any] = set()
    kept: list[dict[str, Any]] = []
    for row in rows:
        k = key(row)
        if len(labels[k]) == 1 and k not in seen:
            seen.add(k)
            kept.append(row)
    conflicting = sum(1 for v in labels.values() if len(v) > 1)
    return kept, {
        "dedup_removed": len(rows) - len(kept) - sum(1 for r in rows if len(labels[key(r)]) > 1),
        "conflicting_keys_dropped": conflicting,
        "unique": dict(Counter(r[label] for r in kept)),
    }


def _cap(
    rows: list[dict[str, Any]], label: str, capped: str, cap: int, stratum: Any
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """All rows, except that `capped` ones are sampled down to `cap` by weighted round
    robin over strata (fixed seed); rows keep their original order."""
    pools: dict[str, list[int]] = {}
    for n, row in enumerate(rows):
        if row[label] == capped:
            pools.setdefault(stratum(row), []).append(n)
    rng = random.Random(SEED)
    for name in sorted(pools):
        rng.shuffle(pools[name])
    chosen: set[int] = set()
    taken: Counter[str] = Counter()
    total = sum(len(p) for p in pools.values())
    while len(chosen) < min(cap, total):
        for name in sorted(pools):
            weight = AFTER_OFFER_WEIGHT if "|prev reqmore" in name else 1
            for _ in range(weight):
                if pools[name] and len(chosen) < cap:
                    chosen.add(pools[name].pop())
                    taken[name] += 1
    kept = [row for n, row in enumerate(rows) if row[label] != capped or n in chosen]
    return kept, dict(taken.most_common())


def write_split(turns: SplitTurns, target: Path, split: str) -> list[Path]:
    """`inbound_<split>.jsonl` and `outbound_<split>.jsonl` in `target`."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for direction, rows in (("inbound", turns.inbound), ("outbound", turns.outbound)):
        path = target / f"{direction}_{split}.jsonl"
        lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in rows]
        path.write_text("".join(lines), encoding="utf-8")
        written.append(path)
    return written


def import_multiwoz(source: Path, target: Path) -> dict[str, SplitTurns]:
    """Label every split found in `source` (dev, train; never test) into `target`, with
    `build_summary.json`. Raises `FilesInvalid` when no split is there."""
    found: dict[str, SplitTurns] = {}
    for split in SPLIT_FILES:
        dialogues = read_split(source, split)
        if dialogues is not None:
            found[split] = label_split(dialogues, split)
    if not found:
        names = ", ".join(n for names in SPLIT_FILES.values() for n in names)
        raise FilesInvalid([FileError(str(source), 1, "T008", f"none of {names} (or .zip)")])
    for split, turns in found.items():
        write_split(turns, target, split)
    summary = {
        "source": SOURCE,
        "licence": LICENCE,
        "seed": SEED,
        "note": "MultiWOZ's test split is deliberately not read.",
        **{split: turns.summary for split, turns in found.items()},
    }
    (target / "build_summary.json").write_text(
        json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return found
