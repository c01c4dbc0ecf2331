"""The seeded day: when conversations arrive and what each customer will do.

Arrivals follow an hourly demand curve (a morning rise, a lunchtime and an afternoon
peak, a quiet evening), as inbound messaging traffic in a consumer contact center
usually does. The same seed gives the same traffic, whatever policy then runs on it.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import UTC, datetime

from tidal.simulation.customers import Plan, draw_kind, draw_plan
from tidal.simulation.staffing import HOUR, AgentPlan, draw_agents
from tidal.simulation.texts import TextPools

#: the day the simulation runs on (any date; the engine only needs aware UTC times)
DAY_START = datetime(2026, 3, 2, tzinfo=UTC)

#: relative arrivals per hour of the day (hour -> weight); no arrivals outside
ARRIVALS_BY_HOUR: dict[int, float] = {
    7: 2,
    8: 5,
    9: 8,
    10: 10,
    11: 10,
    12: 9,
    13: 9,
    14: 10,
    15: 10,
    16: 9,
    17: 7,
    18: 6,
    19: 4,
    20: 3,
}
#: the simulation runs until midnight, so late conversations can finish
SIMULATION_END = 24 * HOUR


@dataclass(frozen=True, slots=True)
class Traffic:
    seed: int
    plans: tuple[Plan, ...]  # by arrival
    agents: tuple[AgentPlan, ...]
    end: float


def generate(seed: int, conversations: int, agents: int, texts: TextPools) -> Traffic:
    """A reproducible day: `conversations` customers and `agents` agents."""
    rng = random.Random(seed)
    arrivals = sorted(_arrival(rng) for _ in range(conversations))
    width = len(str(conversations))
    plans = tuple(
        draw_plan(f"c-{i + 1:0{width}d}", draw_kind(rng), at, texts, rng)
        for i, at in enumerate(arrivals)
    )
    staff = tuple(draw_agents(agents, random.Random(f"{seed}:agents")))
    return Traffic(seed=seed, plans=plans, agents=staff, end=SIMULATION_END)


_HOURS = sorted(ARRIVALS_BY_HOUR)
_CUMULATIVE: list[float] = []
_total = 0.0
for _hour in _HOURS:
    _total += ARRIVALS_BY_HOUR[_hour]
    _CUMULATIVE.append(_total)


def _arrival(rng: random.Random) -> float:
    """One arrival time: an hour by its weight, uniform within the hour."""
    pick = rng.random() * _CUMULATIVE[-1]
    hour = _HOURS[bisect.bisect_right(_CUMULATIVE, pick)]
    return (hour + rng.random()) * HOUR
