"""Routing (docs/concepts.md#routing): who gets which conversation, and the indices that make it
fast.

The `Router` owns the routing fields of conversations and agents (`state` between
queued and assigned, `agent_id`, `last_agent_id`, `load`, `last_assigned_at`) and keeps
`AgentPool` and `WaitingQueue` in step with them. Callers change other fields, then
call `sync_conversation` / `sync_agent`.

Stability: after every routing run no queued conversation could go to any agent
eligible for new work. So when one conversation is queued only it needs placing, and
when one agent gains room only that agent needs filling.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from tidal.engine.core.indices import AgentPool, WaitingQueue
from tidal.engine.core.model import (
    Agent,
    AgentStatus,
    Awaiting,
    Conversation,
    Event,
    EventKind,
    State,
)
from tidal.engine.core.priority import queue_key

_NO_ASSIGNMENT_YET = float("-inf")
_AVAILABLE = AgentStatus.AVAILABLE

#: statuses that still receive returning (sticky) conversations
RETURNING_WORK_STATUSES = frozenset({AgentStatus.AVAILABLE, AgentStatus.BUSY})


def takes_new_work(agent: Agent) -> bool:
    return (
        agent.status is AgentStatus.AVAILABLE
        and not agent.blocked_for_overdue
        and agent.load < agent.preferred_concurrency
    )


def takes_returning_work(agent: Agent) -> bool:
    return agent.status in RETURNING_WORK_STATUSES and agent.load < agent.max_concurrency


def takes_manual_pickup(agent: Agent) -> bool:
    return agent.status is not AgentStatus.OFFLINE and agent.load < agent.max_concurrency


def agent_key(agent: Agent) -> tuple[float, float, str]:
    """Lowest load/preferred first, then the oldest last assignment, then id."""
    last = agent.last_assigned_at
    return (
        agent.load / agent.preferred_concurrency,
        last.timestamp() if last is not None else _NO_ASSIGNMENT_YET,
        agent.id,
    )


class Router:
    def __init__(self, agents: dict[str, Agent], conversations: dict[str, Conversation]) -> None:
        self.agents = agents
        self.conversations = conversations
        self.pool = AgentPool()
        self.queue = WaitingQueue()
        self._holder: dict[str, str] = {}  # assigned conversation -> agent
        self._assigned: dict[str, set[str]] = {}  # agent -> assigned conversations
        self._paused_with: dict[str, str] = {}  # inactive conversation -> last agent
        self._paused: dict[str, set[str]] = {}  # agent -> inactive conversations
        self._pooled = self.pool.members
        self._queued = self.queue.members

    # -- keeping the indices in step ------------------------------------------------

    def sync_agent(self, agent: Agent) -> None:
        # `takes_new_work` and `agent_key`, inlined: this runs on every assignment
        if (
            agent.status is _AVAILABLE
            and not agent.blocked_for_overdue
            and agent.load < agent.preferred_concurrency
        ):
            last = agent.last_assigned_at
            key = (
                agent.load / agent.preferred_concurrency,
                last.timestamp() if last is not None else _NO_ASSIGNMENT_YET,
                agent.id,
            )
            self.pool.put(agent.id, agent.skills, key)
        elif agent.id in self._pooled:
            self.pool.discard(agent.id)

    def sync_conversation(self, conversation: Conversation) -> None:
        c = conversation
        cid = c.id
        state = c.state
        if state is State.QUEUED:
            self.queue.put(cid, c.skills, queue_key(c))
        elif cid in self._queued:
            self.queue.discard(cid)
        holder = c.agent_id if state is State.ASSIGNED else None
        if self._holder.get(cid) != holder:
            _move(cid, holder, self._holder, self._assigned)
        paused_with = c.last_agent_id if state is State.INACTIVE else None
        if self._paused_with.get(cid) != paused_with:
            _move(cid, paused_with, self._paused_with, self._paused)

    def assigned_to(self, agent_id: str) -> set[str]:
        return self._assigned.get(agent_id, set())

    def paused_with(self, agent_id: str) -> set[str]:
        return self._paused.get(agent_id, set())

    def queued_ids(self) -> Iterator[str]:
        return self.queue.ids()

    # -- decisions --------------------------------------------------------------------

    def assign(
        self,
        conversation: Conversation,
        agent: Agent,
        at: datetime,
        reason: str,
        *,
        reindex_agent: bool = True,
    ) -> Event:
        """Give `conversation` to `agent` (the caller checked the agent may take it)."""
        conversation.state = State.ASSIGNED
        conversation.agent_id = agent.id
        conversation.last_agent_id = agent.id
        agent.load += 1
        agent.last_assigned_at = at
        self.sync_conversation(conversation)
        if reindex_agent:
            self.sync_agent(agent)
        return Event(
            EventKind.ASSIGNED, at, conversation.id, agent.id, reason, {"load": agent.load}
        )

    def release(self, conversation: Conversation) -> Agent | None:
        """Free the slot `conversation` holds. The caller sets the conversation's new
        state and syncs it, and then fills (or syncs) the agent: it is not re-indexed
        here, since filling the freed slot usually puts it back where it was."""
        agent_id = conversation.agent_id
        conversation.agent_id = None
        if agent_id is None:
            return None
        conversation.last_agent_id = agent_id
        agent = self.agents[agent_id]
        agent.load -= 1
        return agent

    def enqueue(self, conversation: Conversation, at: datetime, reason: str) -> list[Event]:
        """Queue a conversation awaiting an agent, then place it if an agent can take it."""
        conversation.state = State.QUEUED
        conversation.awaiting = Awaiting.AGENT
        conversation.agent_id = None
        events = [Event(EventKind.QUEUED, at, conversation.id, None, reason)]
        placed = self.place(conversation, at)  # straight to an agent: the queue is untouched
        if placed is not None:
            events.append(placed)
        else:
            self.sync_conversation(conversation)
        return events

    def place(self, conversation: Conversation, at: datetime) -> Event | None:
        """New work: the best agent eligible for it, if any."""
        agent_id = self.pool.best_for(conversation.skills)
        if agent_id is None:
            return None
        return self.assign(conversation, self.agents[agent_id], at, "least_loaded")

    def sticky_agent(self, conversation: Conversation) -> Agent | None:
        """The last agent, if it may take this conversation back (docs/concepts.md#routing)."""
        if conversation.last_agent_id is None:
            return None
        agent = self.agents.get(conversation.last_agent_id)
        if agent is None or not takes_returning_work(agent):
            return None
        return agent

    def fill(self, agent: Agent, at: datetime) -> list[Event]:
        """Give an agent that has room new work from the queue, best first."""
        events: list[Event] = []
        while takes_new_work(agent):
            conversation_id = self.queue.best_for(agent.skills)
            if conversation_id is None:
                break
            conversation = self.conversations[conversation_id]
            events.append(self.assign(conversation, agent, at, "least_loaded", reindex_agent=False))
        self.sync_agent(agent)  # once, with whatever load it ends at
        return events

    def best_queued_for(self, agent: Agent) -> Conversation | None:
        conversation_id = self.queue.best_for(agent.skills)
        return self.conversations[conversation_id] if conversation_id is not None else None

    def rebalance(self, at: datetime) -> list[Event]:
        """Place every queued conversation an agent can take, in priority order."""
        events: list[Event] = []
        for conversation_id in list(self.queue.ids()):
            placed = self.place(self.conversations[conversation_id], at)
            if placed is not None:
                events.append(placed)
        return events


def _move(
    item: str, owner: str | None, owner_of: dict[str, str], items_of: dict[str, set[str]]
) -> None:
    previous = owner_of.get(item)
    if previous == owner:
        return
    if previous is not None:
        items = items_of[previous]
        items.discard(item)
        if not items:
            del items_of[previous]
        del owner_of[item]
    if owner is not None:
        owner_of[item] = owner
        items_of.setdefault(owner, set()).add(item)
