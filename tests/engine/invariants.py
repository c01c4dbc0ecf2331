"""The invariants of docs/concepts.md#routing, checked against an engine's whole visible state."""

from __future__ import annotations

from collections import Counter

from tidal.engine.core.engine import Engine
from tidal.engine.core.model import AgentStatus, Awaiting, State


def check_invariants(engine: Engine) -> None:
    conversations = engine.conversations()
    agents = {a.id: a for a in engine.agents()}
    held = Counter(c.agent_id for c in conversations if c.state is State.ASSIGNED)
    queue = engine.queue()
    queued_ids = [c.id for c in queue]
    assert len(set(queued_ids)) == len(queued_ids)
    assert set(queued_ids) == {c.id for c in conversations if c.state is State.QUEUED}
    for c in conversations:
        if c.state is State.QUEUED:
            assert c.agent_id is None and c.awaiting is Awaiting.AGENT, c
            assert c.respond_by is not None, c
        elif c.state is State.ASSIGNED:
            assert c.agent_id in agents, c
            assert agents[c.agent_id].status is not AgentStatus.OFFLINE, c
            assert c.awaiting in (Awaiting.AGENT, Awaiting.CUSTOMER), c
            assert c.last_agent_id == c.agent_id, c
        elif c.state is State.INACTIVE:
            assert c.agent_id is None and c.awaiting is None, c
        else:
            assert c.agent_id is None and c.awaiting is None, c
            assert c.closed_at is not None and c.close_reason, c
        if c.awaiting is Awaiting.AGENT:
            assert c.respond_by is not None, c
    for agent_id, agent in agents.items():
        assert agent.load == held.get(agent_id, 0), agent
    # the queue is in priority order
    keys = [(c.respond_by, c.awaiting_since, c.id) for c in queue]
    assert keys == sorted(keys, key=lambda k: (k[0], k[1] or k[0], k[2]))
    # stability: nothing queued that an agent eligible for new work could take
    for c in queue:
        for agent in agents.values():
            eligible = (
                agent.status is AgentStatus.AVAILABLE
                and not agent.blocked_for_overdue
                and agent.load < agent.preferred_concurrency
            )
            assert not (eligible and c.skills <= agent.skills), (c.id, agent)
