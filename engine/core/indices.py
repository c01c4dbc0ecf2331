"""Indexed lookups that keep a routing decision logarithmic (docs/concepts.md#routing).

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
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from sortedcontainers import SortedList

K = TypeVar("K", bound=tuple[Any, ...])

#: stale keys a group tolerates before it is rebuilt (and at least half its keys)
_COMPACT_AFTER = 64


class _Group:
    """One skill set's sorted keys; `stale` counts keys no longer current; `head` caches
    the first current key while `known` (a routing decision looks at every matching
    group's head, and most groups did not change since the last look)."""

    __slots__ = ("head", "keys", "known", "stale")

    def __init__(self) -> None:
        self.keys = SortedList()
        self.stale = 0
        self.head: Any = None
        self.known = True


class _Grouped(Generic[K]):
    """Keys grouped by a skill set, each group a sorted list; `key[-1]` is the item id.

    Deletion is lazy: a changed or removed item's old key stays in its sorted list and
    is dropped when it reaches the head (or when stale keys outnumber live ones and the
    group is rebuilt). A key is current only if it is the very object `_where` holds,
    so an update costs one insertion instead of a removal and an insertion.
    """

    def __init__(self) -> None:
        self._groups: dict[frozenset[str], _Group] = {}
        self._where: dict[str, tuple[frozenset[str], K]] = {}
        self._match_cache: dict[frozenset[str], list[_Group]] = {}

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._where

    @property
    def members(self) -> dict[str, tuple[frozenset[str], K]]:
        """Item id -> (skills, key), for membership tests without a method call.
        Read only."""
        return self._where

    def put(self, item_id: str, skills: frozenset[str], key: K) -> None:
        old = self._where.get(item_id)
        if old is not None and old[1] == key and old[0] == skills:
            return
        group = self._groups.get(skills)
        if group is None:
            group = self._groups[skills] = _Group()
            self._match_cache.clear()
        group.keys.add(key)
        if group.known and (group.head is None or key < group.head):
            group.head = key
        self._where[item_id] = (skills, key)
        if old is not None:
            self._retire(*old)  # after the new key is current, so a rebuild keeps it

    def discard(self, item_id: str) -> None:
        old = self._where.pop(item_id, None)
        if old is not None:
            self._retire(*old)

    def _retire(self, skills: frozenset[str], key: K) -> None:
        group = self._groups[skills]
        group.stale += 1
        if group.head is key:
            group.known = False
        if group.stale > _COMPACT_AFTER and group.stale * 2 > len(group.keys):
            group.keys = SortedList(k for k in group.keys if self._current(k))
            group.stale = 0

    def _current(self, key: K) -> bool:
        where = self._where.get(key[-1])
        return where is not None and where[1] is key

    def _head(self, group: _Group) -> K | None:
        if group.known:
            head: K | None = group.head
            return head
        keys = group.keys
        where_of = self._where
        found: K | None = None
        while keys:
            key: K = keys[0]
            where = where_of.get(key[-1])
            if where is not None and where[1] is key:
                found = key
                break
            keys.pop(0)  # SortedList's fast path for the head
            group.stale -= 1
        group.head = found
        group.known = True
        return found

    def _matching(self, skills: frozenset[str], *, groups_within: bool) -> list[_Group]:
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
            head = self._head(group)
            if head is not None and (best is None or head < best):
                best = head
        return best

    def ordered(self) -> Iterator[K]:
        merged: Iterator[K] = heapq.merge(*(g.keys for g in self._groups.values()))
        return (key for key in merged if self._current(key))


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
