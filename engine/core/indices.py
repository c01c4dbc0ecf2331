"""Indexed lookups that keep a routing decision logarithmic (SPEC 2.4).

Both indices keep one `SortedList` per distinct skill set, because real contact centres
have many agents and conversations but few distinct skill profiles:

- `AgentPool`: agents that may receive new work, per skill profile, best first.
  The best agent for a conversation is the best head among the profiles that include
  the conversation's skills.
- `WaitingQueue`: queued conversations, per required skill set, in priority order.
  The best conversation for an agent is the best head among the required sets the
  agent's skills include, so a conversation nobody can take blocks nobody behind it.

Which profiles match a skill set is cached and recomputed only when a profile appears.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

from sortedcontainers import SortedList

K = TypeVar("K", bound=Hashable)


class _Grouped(Generic[K]):
    """Keys grouped by a skill set, each group a sorted list; `key[-1]` is the item id."""

    def __init__(self) -> None:
        self._groups: dict[frozenset[str], SortedList] = {}
        self._where: dict[str, tuple[frozenset[str], K]] = {}
        self._match_cache: dict[frozenset[str], list[SortedList]] = {}

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._where

    def put(self, item_id: str, skills: frozenset[str], key: K) -> None:
        old = self._where.get(item_id)
        if old is not None:
            if old == (skills, key):
                return
            self._groups[old[0]].remove(old[1])
        group = self._groups.get(skills)
        if group is None:
            group = self._groups[skills] = SortedList()
            self._match_cache.clear()
        group.add(key)
        self._where[item_id] = (skills, key)

    def discard(self, item_id: str) -> None:
        old = self._where.pop(item_id, None)
        if old is not None:
            self._groups[old[0]].remove(old[1])

    def _matching(self, skills: frozenset[str], *, groups_within: bool) -> list[SortedList]:
        cached = self._match_cache.get(skills)
        if cached is None:
            if groups_within:
                cached = [g for s, g in self._groups.items() if s <= skills]
            else:
                cached = [g for s, g in self._groups.items() if s >= skills]
            self._match_cache[skills] = cached
        return cached

    def best(self, skills: frozenset[str], *, groups_within: bool) -> K | None:
        best: K | None = None
        for group in self._matching(skills, groups_within=groups_within):
            if group:
                head = group[0]
                if best is None or head < best:
                    best = head
        return best

    def ordered(self) -> Iterator[K]:
        return heapq.merge(*self._groups.values())


AgentKey = tuple[float, float, str]
QueueKey = tuple[float, float, str]


class AgentPool(_Grouped[AgentKey]):
    """Agents eligible for new work, keyed (load/preferred, last assignment, id)."""

    def best_for(self, required: frozenset[str]) -> str | None:
        """The best agent whose skills include `required`."""
        key = self.best(required, groups_within=False)
        return key[-1] if key is not None else None


class WaitingQueue(_Grouped[QueueKey]):
    """Queued conversations, keyed (respond_by, awaiting since, id)."""

    def best_for(self, agent_skills: frozenset[str]) -> str | None:
        """The first queued conversation whose required skills the agent has."""
        key = self.best(agent_skills, groups_within=True)
        return key[-1] if key is not None else None

    def ids(self) -> Iterator[str]:
        """Every queued conversation id, in priority order."""
        return (key[-1] for key in self.ordered())
