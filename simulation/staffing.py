"""Agents: shifts that follow the day's demand, breaks, skills and working speed.

Assumptions (documented in docs/simulation.md): shifts of 8.5 hours in four cohorts
starting two hours apart; three breaks (15, 30, 15 minutes) at 2, 4 and 6 hours into
the shift, during which the agent is `away` (keeps its conversations, gets nothing);
30% of agents have the "billing" skill; each agent reads at about 230 words a minute
and types at about 40, scaled by a personal speed factor, plus a look-up and thinking
time per reply (log-normal, median 20 s).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

HOUR = 3600.0

#: (start hour of the cohort, share of the agents)
COHORTS: tuple[tuple[float, float], ...] = ((6.75, 0.2), (8.75, 0.3), (10.75, 0.3), (12.75, 0.2))
SHIFT_HOURS = 8.5
BREAKS: tuple[tuple[float, float], ...] = ((2.0, 0.25), (4.0, 0.5), (6.0, 0.25))  # (at, hours)
BILLING_AGENT_SHARE = 0.3
READ_WORDS_PER_SECOND = 230 / 60
WRITE_WORDS_PER_SECOND = 40 / 60
LOOKUP_MEDIAN_SECONDS = 20.0
LOOKUP_SIGMA = 0.6


@dataclass(frozen=True, slots=True)
class AgentPlan:
    id: str
    shift_start: float  # seconds from the start of the day
    shift_end: float
    breaks: tuple[tuple[float, float], ...]  # (start, end)
    skills: frozenset[str]
    speed: float  # multiplies every duration: below 1 is faster

    @property
    def working_seconds(self) -> float:
        return self.shift_end - self.shift_start - sum(end - start for start, end in self.breaks)


def draw_agents(count: int, rng: random.Random) -> list[AgentPlan]:
    agents: list[AgentPlan] = []
    cohort_sizes = _apportion(count, [share for _, share in COHORTS])
    index = 0
    for (start_hour, _), size in zip(COHORTS, cohort_sizes, strict=True):
        for _ in range(size):
            index += 1
            # starts spread over a quarter of an hour, as a real roster does
            start = start_hour * HOUR + rng.uniform(0, 0.25 * HOUR)
            agents.append(
                AgentPlan(
                    id=f"agent-{index:04d}",
                    shift_start=start,
                    shift_end=start + SHIFT_HOURS * HOUR,
                    breaks=tuple(
                        (start + at * HOUR, start + (at + length) * HOUR) for at, length in BREAKS
                    ),
                    skills=(
                        frozenset({"billing"})
                        if rng.random() < BILLING_AGENT_SHARE
                        else frozenset()
                    ),
                    speed=rng.uniform(0.8, 1.25),
                )
            )
    return agents


def reply_seconds(agent: AgentPlan, read_words: int, write_words: int, rng: random.Random) -> float:
    """How long `agent` takes to read the customer's messages and write a reply."""
    lookup = rng.lognormvariate(0.0, LOOKUP_SIGMA) * LOOKUP_MEDIAN_SECONDS
    work = read_words / READ_WORDS_PER_SECOND + write_words / WRITE_WORDS_PER_SECOND + lookup
    return agent.speed * work


def _apportion(total: int, shares: list[float]) -> list[int]:
    sizes = [int(total * share) for share in shares]
    for i in range(total - sum(sizes)):
        sizes[i % len(sizes)] += 1
    return sizes
