"""The intent vocabulary shared by the classifier and the workflow rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["inbound", "outbound"]
DIRECTIONS: tuple[Direction, ...] = ("inbound", "outbound")

#: Every direction has this intent: the fallback when nothing more specific applies.
FALLBACK_INTENT = "other"

#: What decided: an intent rule, the fast model, the sentence-encoder stage of a cascade
#: model, or nothing (the fallback).
ClassificationSource = Literal["rule", "model", "encoder", "fallback"]


@dataclass(frozen=True, slots=True)
class Alternative:
    intent: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Classification:
    """What a message meant for the workflow, and why the classifier thinks so."""

    intent: str
    confidence: float
    source: ClassificationSource
    rule_id: str | None = None
    model_version: str | None = None
    alternatives: tuple[Alternative, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class IntentCatalogue:
    """The intents known per direction (shipped in `rules/intents/catalogue.yaml`)."""

    inbound: frozenset[str]
    outbound: frozenset[str]

    def for_direction(self, direction: Direction) -> frozenset[str]:
        return self.inbound if direction == "inbound" else self.outbound

    def knows(self, direction: Direction, intent: str) -> bool:
        return intent in self.for_direction(direction)


DEFAULT_CATALOGUE = IntentCatalogue(
    inbound=frozenset(
        {
            "greeting",
            "gratitude",
            "acknowledgement",
            "affirm",
            "deny",
            "goodbye",
            "away",
            "request_human",
            "urgent",
            "opt_out",
            "other",
        }
    ),
    outbound=frozenset({"greeting", "offer_more_help", "hold", "closing", "other"}),
)
