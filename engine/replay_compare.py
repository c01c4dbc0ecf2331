"""What-if replay: the same conversations under two rule sets (or two models), and
every decision that differs between them.

Pairs records by (conversation, message index), so a conversation one side refused
(a replay problem) only loses its own pairs. Counts changes by intent and by action
(`before -> after`) and keeps the first examples of each, for a team to read before it
ships a rule edit. Pure: the CLI (`service/cli/replay.py`) does the I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tidal.engine.replay import ReplayRecord

#: what a decision is made of; a change in any of these is reported
DECISION_FIELDS = ("intent", "action", "rule_id", "state", "awaiting", "agent_id", "routing_reason")


@dataclass(frozen=True, slots=True)
class DecisionChange:
    conversation_id: str
    index: int
    direction: str
    text: str
    before: dict[str, Any]
    after: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "index": self.index,
            "direction": self.direction,
            "text": self.text,
            "before": self.before,
            "after": self.after,
        }


@dataclass(slots=True)
class Comparison:
    messages: int = 0
    only_in_one: int = 0  # messages one side could not replay
    changes: list[DecisionChange] = field(default_factory=list)
    by_intent: Counter[str] = field(default_factory=Counter)
    by_action: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[DecisionChange]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "changed": len(self.changes),
            "unpaired": self.only_in_one,
            "by_intent": dict(self.by_intent.most_common()),
            "by_action": dict(self.by_action.most_common()),
            "examples": {
                change: [example.to_json() for example in found]
                for change, found in self.examples.items()
            },
        }


def compare_records(
    before: Iterable[ReplayRecord], after: Iterable[ReplayRecord], *, examples: int = 3
) -> Comparison:
    """Every changed decision, in the order of `before`, then the counts."""
    later = {(r.conversation_id, r.index): r for r in after}
    result = Comparison()
    for old in before:
        new = later.pop((old.conversation_id, old.index), None)
        if new is None:
            result.only_in_one += 1
            continue
        result.messages += 1
        changed = [f for f in DECISION_FIELDS if getattr(old, f) != getattr(new, f)]
        if not changed:
            continue
        change = DecisionChange(
            old.conversation_id,
            old.index,
            old.direction,
            old.text,
            {f: getattr(old, f) for f in changed},
            {f: getattr(new, f) for f in changed},
        )
        result.changes.append(change)
        keys = []
        if old.intent != new.intent:
            key = f"{old.direction} {old.intent} -> {new.intent}"
            result.by_intent[key] += 1
            keys.append(f"intent: {key}")
        if old.action != new.action:
            key = f"{old.action} -> {new.action}"
            result.by_action[key] += 1
            keys.append(f"action: {key}")
        if not keys:  # same intent and action, different state or routing downstream
            keys.append("state or routing only")
        for key in keys:
            found = result.examples.setdefault(key, [])
            if len(found) < examples:
                found.append(change)
    result.only_in_one += len(later)
    return result
