"""Cost of one routing decision, indexed router against a naive linear scan.

Decisions, each through the engine's own code path (`tidal.engine.core.workspace.Workspace`):

- assign: a new conversation is queued and placed with the best eligible agent (or
  stays queued when every agent is at its preferred concurrency);
- release: an assigned conversation closes; the agent's freed slot takes the first
  queued conversation whose skills it has;
- reprioritise: a queued conversation's respond_by moves earlier (an escalation).

Sizes: 1k, 10k and 100k agents, each with as many and with 10x as many open
conversations. Agents have preferred 3 / max 5 and one of six skill profiles;
conversations need one of six skill sets, one of which no agent has (they stay queued
and must not block the others). The naive router is the same engine with the indices
replaced by plain scans over all agents / the whole queue, measured on fewer decisions.

Run: .venv/bin/python bench/routing.py        (prints a table, then one JSON line)
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tidal.engine.core.indices import AgentKey, AgentPool, QueueKey, WaitingQueue
from tidal.engine.core.model import (
    Agent,
    AgentStatus,
    Awaiting,
    Conversation,
    EventKind,
    State,
)
from tidal.engine.core.settings import RoutingSettings
from tidal.engine.core.workspace import Workspace

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
AGENT_PROFILES = [
    frozenset({"billing"}),
    frozenset({"billing", "spanish"}),
    frozenset({"tech"}),
    frozenset({"tech", "billing"}),
    frozenset({"tech", "spanish", "billing"}),
    frozenset(),
]
CONVERSATION_NEEDS = [
    frozenset(),
    frozenset({"billing"}),
    frozenset({"tech"}),
    frozenset({"spanish"}),
    frozenset({"tech", "billing"}),
    frozenset({"klingon"}),  # nobody speaks klingon
]
NEED_WEIGHTS = [30, 30, 20, 10, 8, 2]


# -- the naive router: same interface, a plain scan per decision -------------------------


class LinearAgentPool(AgentPool):
    def __init__(self) -> None:
        self._keys: dict[str, tuple[frozenset[str], AgentKey]] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._keys

    def put(self, agent_id: str, skills: frozenset[str], key: AgentKey) -> None:
        self._keys[agent_id] = (skills, key)

    def discard(self, agent_id: str) -> None:
        self._keys.pop(agent_id, None)

    def best_for(self, required: frozenset[str]) -> str | None:
        best = min((k for s, k in self._keys.values() if required <= s), default=None)
        return best[-1] if best is not None else None


class LinearWaitingQueue(WaitingQueue):
    def __init__(self) -> None:
        self._keys: dict[str, tuple[frozenset[str], QueueKey]] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, conversation_id: object) -> bool:
        return conversation_id in self._keys

    def put(self, conversation_id: str, skills: frozenset[str], key: QueueKey) -> None:
        self._keys[conversation_id] = (skills, key)

    def discard(self, conversation_id: str) -> None:
        self._keys.pop(conversation_id, None)

    def best_for(self, agent_skills: frozenset[str]) -> str | None:
        best = min((k for s, k in self._keys.values() if s <= agent_skills), default=None)
        return best[-1] if best is not None else None

    def ids(self) -> Iterator[str]:
        return (k[-1] for _, k in sorted(self._keys.values(), key=lambda v: v[1]))


# -- building a desk -------------------------------------------------------------------


@dataclass
class Desk:
    ws: Workspace
    rng: random.Random
    now: datetime
    assigned: list[str]
    queued: list[str]
    serial: int = 0

    def new_conversation(self) -> Conversation:
        self.serial += 1
        needs = self.rng.choices(CONVERSATION_NEEDS, NEED_WEIGHTS)[0]
        respond_by = self.now + timedelta(seconds=self.rng.randint(30, 900))
        conversation = Conversation(
            id=f"c-{self.serial:08d}",
            channel=None,
            customer_id=None,
            skills=needs,
            state=State.QUEUED,
            opened_at=self.now,
            awaiting=Awaiting.AGENT,
            respond_by=respond_by,
            awaiting_since=self.now,
        )
        self.ws.conversations[conversation.id] = conversation
        return conversation


def build(agents: int, conversations: int, seed: int = 7) -> Desk:
    ws = Workspace(RoutingSettings())
    rng = random.Random(seed)
    for i in range(agents):
        agent = Agent(
            f"a-{i:07d}",
            AgentStatus.AVAILABLE,
            3,
            5,
            rng.choice(AGENT_PROFILES),
            last_assigned_at=START - timedelta(seconds=rng.randint(0, 86400)),
        )
        ws.agents[agent.id] = agent
        ws.sync_agent(agent)
    desk = Desk(ws, rng, START, [], [])
    for _ in range(conversations):
        conversation = desk.new_conversation()
        ws.emit(ws.router.enqueue(conversation, desk.now, "new_work"))
        desk.now += timedelta(milliseconds=1)
    for conversation in ws.conversations.values():
        (desk.assigned if conversation.state is State.ASSIGNED else desk.queued).append(
            conversation.id
        )
    rng.shuffle(desk.assigned)
    rng.shuffle(desk.queued)
    ws.drain()
    ws.forget_unsaved()
    return desk


def make_linear(desk: Desk) -> None:
    """Swap the indices for plain scans, keeping exactly the same content."""
    router = desk.ws.router
    pool, queue = LinearAgentPool(), LinearWaitingQueue()
    router.pool, router.queue = pool, queue
    for agent in desk.ws.agents.values():
        router.sync_agent(agent)
    for conversation_id in desk.queued:
        router.sync_conversation(desk.ws.conversations[conversation_id])


# -- decisions -------------------------------------------------------------------------


def _pick(ids: list[str], desk: Desk, state: State) -> Conversation | None:
    """A random conversation of `ids` still in `state` (stale ids are dropped)."""
    while ids:
        index = desk.rng.randrange(len(ids))
        conversation = desk.ws.conversations[ids[index]]
        if conversation.state is state:
            return conversation
        ids[index] = ids[-1]
        ids.pop()
    return None


def _note_assignments(desk: Desk, first_event: int) -> None:
    for event in desk.ws.changes.events[first_event:]:
        if event.kind is EventKind.ASSIGNED and event.conversation_id is not None:
            desk.assigned.append(event.conversation_id)


def measure(desk: Desk, decisions: int, batch: int = 250) -> dict[str, float]:
    """Microseconds per decision of each kind.

    Kinds alternate in batches (assign, release, reprioritise) so the desk keeps its
    size; the conversations a batch acts on are chosen before its timer starts. Time is
    the process's CPU time, and each kind's figure is its best batch of `batch`
    decisions (as `timeit` reports the best repeat: on a shared machine interference
    only adds time); `mean` is the mean over the three kinds, `median_mean` the same
    from the median batches.
    """
    ws = desk.ws
    kinds = ("assign", "release", "reprioritise")
    batches: dict[str, list[float]] = {k: [] for k in kinds}  # microseconds per decision
    clock = time.process_time

    def record(kind: str, started: float, count: int) -> None:
        if count:
            batches[kind].append((clock() - started) / count * 1e6)

    gc.collect()
    gc.freeze()  # a long-lived service keeps its working set out of the young generations
    rounds = max(1, decisions // (3 * batch))
    size = min(batch, max(1, decisions // 3))
    for _ in range(rounds):
        desk.now += timedelta(seconds=1)
        now = desk.now
        fresh = [desk.new_conversation() for _ in range(size)]
        t0 = clock()
        for conversation in fresh:
            ws.emit(ws.router.enqueue(conversation, now, "new_work"))
        record("assign", t0, len(fresh))
        for conversation in fresh:
            (desk.assigned if conversation.state is State.ASSIGNED else desk.queued).append(
                conversation.id
            )

        leaving = _pick_many(desk, desk.assigned, State.ASSIGNED, size)
        first_event = len(ws.changes.events)
        t0 = clock()
        for conversation in leaving:
            ws.close(conversation, "resolved", now)
        record("release", t0, len(leaving))
        _note_assignments(desk, first_event)

        waiting = _pick_many(desk, desk.queued, State.QUEUED, size)
        earlier = [
            (c.respond_by or now) - timedelta(seconds=desk.rng.randint(1, 120)) for c in waiting
        ]
        t0 = clock()
        for conversation, respond_by in zip(waiting, earlier, strict=True):
            conversation.respond_by = respond_by
            ws.sync(conversation)
        record("reprioritise", t0, len(waiting))
        ws.drain()
        ws.forget_unsaved()
    gc.unfreeze()
    # best batch (as timeit does: interference only ever adds time) and median batch
    per = {k: min(v) for k, v in batches.items() if v}
    per["mean"] = statistics.fmean(per[k] for k in kinds if k in per)
    per["median_mean"] = statistics.fmean(statistics.median(batches[k]) for k in kinds)
    per["decisions"] = float(rounds * size * len(kinds))
    return per


def _pick_many(desk: Desk, ids: list[str], state: State, count: int) -> list[Conversation]:
    picked: dict[str, Conversation] = {}
    for _ in range(count * 3):
        if len(picked) == count:
            break
        conversation = _pick(ids, desk, state)
        if conversation is None:
            break
        picked[conversation.id] = conversation
    return list(picked.values())


# -- the run ---------------------------------------------------------------------------


def run(
    label: str, agents: int, conversations: int, decisions: int, linear_decisions: int
) -> tuple[dict[str, float], dict[str, float] | None]:
    started = time.perf_counter()
    desk = build(agents, conversations)
    built = time.perf_counter() - started
    queued = len(desk.ws.router.queue)
    indexed = measure(desk, decisions)
    linear = None
    if linear_decisions:
        make_linear(desk)
        linear = measure(desk, linear_decisions)
    line = (
        f"{label:>22}  queued {queued:>7}  "
        f"assign {indexed['assign']:6.1f}  release {indexed['release']:6.1f}  "
        f"reprioritise {indexed['reprioritise']:6.1f}  mean {indexed['mean']:6.1f} us "
        f"(median batches {indexed['median_mean']:6.1f})"
    )
    if linear is not None:
        line += f"  | linear mean {linear['mean']:9.1f} us ({linear['decisions']:.0f} decisions)"
    print(line + f"  [built in {built:.1f}s]", flush=True)
    del desk
    gc.collect()
    return indexed, linear


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    scale = [1_000, 10_000] if quick else [1_000, 10_000, 100_000]
    print("Routing decision cost (microseconds per decision, lower is better)")
    results: dict[tuple[int, int], dict[str, float]] = {}
    linear_results: dict[tuple[int, int], dict[str, float]] = {}
    linear_budget: Callable[[int, int], int] = lambda a, c: max(30, min(3000, 6_000_000 // (a + c)))  # noqa: E731
    for agents in scale:
        for factor in (1, 10):
            conversations = agents * factor
            label = f"{agents:,} agents {conversations:,} convs"
            indexed, linear = run(
                label, agents, conversations, 20_000, linear_budget(agents, conversations)
            )
            results[(agents, conversations)] = indexed
            if linear is not None:
                linear_results[(agents, conversations)] = linear
    top = scale[-1]
    growth = max(
        results[(top, top * f)]["mean"] / results[(1_000, 1_000 * f)]["mean"] for f in (1, 10)
    )
    key = (10_000, 100_000)
    summary = {
        "bench": "routing",
        "us_per_decision_10k_100k": round(results[key]["mean"], 2),
        "linear_us_per_decision_10k_100k": round(linear_results[key]["mean"], 2),
        "growth_1k_to_100k": round(growth, 2),
    }
    print(f"growth from 1k to {top:,} agents (worst of 1x and 10x conversations): {growth:.2f}x")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
