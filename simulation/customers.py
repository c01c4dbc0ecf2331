"""Customer kinds and the plan of one conversation, drawn up front from the seed.

A plan fixes everything the customer will do (texts, reply delays, going dark, how it
ends), so every policy sees exactly the same customers. When the customer acts depends
on when the agent replies; that is the simulation's job (`day.py`).

Assumptions (documented in docs/simulation.md): reply delays are log-normal around a
median per kind; an engaged customer answers in seconds, an intermittent one in
minutes (now and then past the 30-minute inactivity timeout), one who goes dark
disappears for 45 to 90 minutes mid-issue, sometimes saying so first ("brb, give me an
hour"), and a one-question customer asks once and is done.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import StrEnum

from tidal.simulation.texts import TextPools


class Kind(StrEnum):
    ENGAGED = "engaged"
    INTERMITTENT = "intermittent"
    GOES_DARK = "goes_dark"
    ONE_QUESTION = "one_question"


class Ending(StrEnum):
    DECLINE = "decline"  # "no, that's all, thanks" after the agent's offer of more help
    THANKS = "thanks"  # a bare thanks after the offer
    SILENCE = "silence"  # no answer to the offer at all
    RETURN = "return"  # silence, then a new question hours later


@dataclass(frozen=True, slots=True)
class KindProfile:
    share: float
    questions: tuple[int, int]  # inclusive range
    delay_median: float  # seconds
    delay_sigma: float
    endings: dict[Ending, float]


PROFILES: dict[Kind, KindProfile] = {
    Kind.ENGAGED: KindProfile(
        0.35,
        (2, 5),
        15.0,
        0.6,
        {Ending.DECLINE: 0.5, Ending.THANKS: 0.2, Ending.SILENCE: 0.2, Ending.RETURN: 0.1},
    ),
    Kind.INTERMITTENT: KindProfile(
        0.30,
        (2, 4),
        360.0,
        0.9,
        {Ending.DECLINE: 0.3, Ending.THANKS: 0.2, Ending.SILENCE: 0.4, Ending.RETURN: 0.1},
    ),
    Kind.GOES_DARK: KindProfile(
        0.10,
        (2, 4),
        40.0,
        0.7,
        {Ending.DECLINE: 0.4, Ending.THANKS: 0.2, Ending.SILENCE: 0.3, Ending.RETURN: 0.1},
    ),
    Kind.ONE_QUESTION: KindProfile(
        0.25,
        (1, 1),
        60.0,
        0.7,
        {Ending.DECLINE: 0.2, Ending.THANKS: 0.3, Ending.SILENCE: 0.5},
    ),
}

DARK_SECONDS = (45 * 60.0, 90 * 60.0)
RETURN_AFTER_SECONDS = (60 * 60.0, 4 * 3600.0)
SAYS_AWAY_FIRST = 0.5
#: share of conversations that need the "billing" skill
BILLING_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything one customer will do, decided before the day starts."""

    id: str
    kind: Kind
    arrival: float  # seconds from the start of the day
    skills: frozenset[str]
    questions: tuple[str, ...]
    #: delays[i]: seconds between the agent's answer to question i and question i + 1
    delays: tuple[float, ...]
    #: after the answer to question `dark_after`, gone for `dark_seconds` (None: never)
    dark_after: int | None
    dark_seconds: float
    away_text: str | None
    ending: Ending
    ending_text: str | None
    ending_delay: float
    return_after: float
    return_question: str | None


def draw_kind(rng: random.Random) -> Kind:
    kinds = list(PROFILES)
    return rng.choices(kinds, weights=[PROFILES[k].share for k in kinds])[0]


def draw_plan(
    conversation_id: str, kind: Kind, arrival: float, texts: TextPools, rng: random.Random
) -> Plan:
    profile = PROFILES[kind]
    count = rng.randint(*profile.questions)
    questions = (
        texts.draw("opening", rng),
        *tuple(texts.draw("followup", rng) for _ in range(count - 1)),
    )
    delays = tuple(_lognormal(rng, profile.delay_median, profile.delay_sigma) for _ in questions)
    dark_after: int | None = None
    dark_seconds = 0.0
    away_text: str | None = None
    if kind is Kind.GOES_DARK:
        dark_after = rng.randrange(count - 1) if count > 1 else 0
        dark_seconds = rng.uniform(*DARK_SECONDS)
        if rng.random() < SAYS_AWAY_FIRST:
            away_text = texts.draw("away", rng)
    endings = list(profile.endings)
    ending = rng.choices(endings, weights=[profile.endings[e] for e in endings])[0]
    ending_text = None
    if ending is Ending.DECLINE or ending is Ending.RETURN:  # a return ends declining
        ending_text = texts.draw("decline", rng)
    elif ending is Ending.THANKS:
        ending_text = texts.draw("thanks", rng)
    return_question = texts.draw("opening", rng) if ending is Ending.RETURN else None
    return Plan(
        id=conversation_id,
        kind=kind,
        arrival=arrival,
        skills=frozenset({"billing"}) if rng.random() < BILLING_SHARE else frozenset(),
        questions=questions,
        delays=delays,
        dark_after=dark_after,
        dark_seconds=dark_seconds,
        away_text=away_text,
        ending=ending,
        ending_text=ending_text,
        ending_delay=_lognormal(rng, profile.delay_median, profile.delay_sigma),
        return_after=rng.uniform(*RETURN_AFTER_SECONDS),
        return_question=return_question,
    )


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))
