"""The routing indices against a plain sorted list, under many re-keys and removals."""

from __future__ import annotations

import random

from tidal.engine.core.indices import AgentPool, WaitingQueue


def test_waiting_queue_matches_a_plain_scan_through_lazy_deletion_and_rebuilds() -> None:
    rng = random.Random(3)
    skill_sets = [frozenset(), frozenset({"a"}), frozenset({"b"}), frozenset({"a", "b"})]
    queue = WaitingQueue()
    model: dict[str, tuple[frozenset[str], tuple[float, float, str]]] = {}
    for step in range(20_000):
        item = f"c-{rng.randrange(300)}"
        if rng.random() < 0.3:
            queue.discard(item)
            model.pop(item, None)
        else:
            skills = rng.choice(skill_sets)
            key = (float(rng.randrange(1000)), float(step), item)
            queue.put(item, skills, key)
            model[item] = (skills, key)
        agent_skills = rng.choice(skill_sets)
        fitting = [k for s, k in model.values() if s <= agent_skills]
        expected = min(fitting)[-1] if fitting else None
        assert queue.best_for(agent_skills) == expected
        assert len(queue) == len(model)
    assert list(queue.ids()) == [k[-1] for _, k in sorted(model.values(), key=lambda v: v[1])]


def test_agent_pool_finds_the_best_agent_whose_skills_include_the_need() -> None:
    pool = AgentPool()
    pool.put("a-1", frozenset({"billing"}), (0.5, 0.0, "a-1"))
    pool.put("a-2", frozenset({"billing", "spanish"}), (0.25, 0.0, "a-2"))
    pool.put("a-3", frozenset(), (0.0, 0.0, "a-3"))
    assert pool.best_for(frozenset()) == "a-3"
    assert pool.best_for(frozenset({"billing"})) == "a-2"
    pool.put("a-2", frozenset({"billing", "spanish"}), (0.75, 0.0, "a-2"))
    assert pool.best_for(frozenset({"billing"})) == "a-1"
    pool.discard("a-1")
    assert pool.best_for(frozenset({"billing"})) == "a-2"
    assert pool.best_for(frozenset({"klingon"})) is None
