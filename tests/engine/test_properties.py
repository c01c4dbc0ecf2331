"""Model-based property test: random messages, agent changes and clock jumps, with every
invariant of docs/concepts.md#routing checked after every step (see `invariants.py`).

Besides the invariants, each step is checked against an independent brute-force model
of the decision it should have made: the best agent for new work by a linear scan, the
sticky rule, respond_by never moving later, duplicates changing nothing, and a restart
from the store reproducing the same state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.engine.invariants import check_invariants
from tests.engine.stats import PROPERTY_RUNS
from tidal.engine.core.clock import ManualClock
from tidal.engine.core.engine import Engine
from tidal.engine.core.errors import InvalidAgentSettings, UnknownAgent
from tidal.engine.core.intents import DEFAULT_CATALOGUE, Classification
from tidal.engine.core.model import (
    Action,
    Agent,
    AgentStatus,
    Awaiting,
    Conversation,
    EventKind,
    IncomingMessage,
    State,
)
from tidal.engine.core.settings import ChannelSettings, RoutingSettings
from tidal.engine.core.store import InMemoryStore
from tidal.engine.core.workflow import DEFAULT_WORKFLOW

AGENT_IDS = ["a-1", "a-2", "a-3"]
CONVERSATION_IDS = [f"c-{i}" for i in range(1, 6)]
SKILLS = st.frozensets(st.sampled_from(["billing", "spanish"]), max_size=2)
# every intent, with the ones that move conversations around drawn more often
INBOUND_INTENTS = st.sampled_from(sorted(DEFAULT_CATALOGUE.inbound)) | st.sampled_from(
    ["other", "other", "away", "urgent", "gratitude"]
)
OUTBOUND = sorted(DEFAULT_CATALOGUE.outbound)
JUMPS = [1, 20, 90, 300, 660, 1800, 3600, 6 * 3600, 25 * 3600]
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

#: shown in pytest's terminal summary by tests/engine/conftest.py
EXAMPLES = PROPERTY_RUNS
#: how often each model check met a case worth checking, to keep the test honest
COVERAGE: dict[str, int] = {}


def covered(case: str) -> None:
    COVERAGE[case] = COVERAGE.get(case, 0) + 1


def brute_force_best_agent(agents: list[Agent], skills: frozenset[str]) -> str | None:
    """docs/concepts.md#routing new work, by a plain scan: lowest load/preferred, oldest assignment,
    id."""
    eligible = [
        a
        for a in agents
        if a.status is AgentStatus.AVAILABLE
        and not a.blocked_for_overdue
        and a.load < a.preferred_concurrency
        and skills <= a.skills
    ]
    if not eligible:
        return None
    never = datetime.min.replace(tzinfo=UTC)
    return min(
        eligible,
        key=lambda a: (a.load / a.preferred_concurrency, a.last_assigned_at or never, a.id),
    ).id


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        EXAMPLES["count"] += 1
        self.clock = ManualClock(START)
        self.store = InMemoryStore()
        self.engine = Engine(RoutingSettings(), DEFAULT_WORKFLOW, self.clock, self.store)
        self.message_ids: list[str] = []
        self.loads: dict[str, int] = {}
        self.next_id = 0

    @initialize(
        requeue=st.booleans(),
        team=st.lists(
            st.tuples(st.integers(0, 2), st.integers(1, 3), SKILLS),
            min_size=1,
            max_size=len(AGENT_IDS),
        ),
    )
    def open_the_desk(self, requeue: bool, team: list[tuple[int, int, frozenset[str]]]) -> None:
        settings = RoutingSettings(defaults=ChannelSettings(requeue_overdue=requeue))
        self.engine.replace_rules(settings, DEFAULT_WORKFLOW)
        for agent_id, (preferred, extra, skills) in zip(AGENT_IDS, team, strict=False):
            self.engine.upsert_agent(
                agent_id,
                preferred_concurrency=preferred,
                max_concurrency=max(preferred, 1) + extra - 1,
                skills=skills,
            )

    # -- helpers ------------------------------------------------------------------------

    def _message_id(self) -> str:
        self.next_id += 1
        return f"m-{self.next_id}"

    def _agents(self) -> dict[str, Agent]:
        return {a.id: a for a in self.engine.agents()}

    # -- agents -------------------------------------------------------------------------

    @rule(
        agent_id=st.sampled_from(AGENT_IDS),
        status=st.none() | st.sampled_from(list(AgentStatus)),
        preferred=st.none() | st.integers(0, 2),
        maximum=st.none() | st.integers(1, 3),
        skills=st.none() | SKILLS,
    )
    def upsert_agent(
        self,
        agent_id: str,
        status: AgentStatus | None,
        preferred: int | None,
        maximum: int | None,
        skills: frozenset[str] | None,
    ) -> None:
        before = self.engine.agent(agent_id)
        try:
            after = self.engine.upsert_agent(
                agent_id,
                status=status,
                preferred_concurrency=preferred,
                max_concurrency=maximum,
                skills=skills,
            )
        except InvalidAgentSettings:
            assert self.engine.agent(agent_id) == before
            return
        assert after.preferred_concurrency <= after.max_concurrency
        if status is AgentStatus.OFFLINE:
            assert self.engine.worklist(agent_id).awaiting_agent == ()
            assert after.load == 0

    @rule(agent_id=st.sampled_from(AGENT_IDS), status=st.sampled_from(list(AgentStatus)))
    def agent_changes_status(self, agent_id: str, status: AgentStatus) -> None:
        if self.engine.agent(agent_id) is not None:
            assert self.engine.upsert_agent(agent_id, status=status).status is status

    @rule(agent_id=st.sampled_from(AGENT_IDS))
    def take_more_work(self, agent_id: str) -> None:
        if self.engine.agent(agent_id) is None:
            with pytest.raises(UnknownAgent):
                self.engine.take_more_work(agent_id)
            return
        picked = self.engine.take_more_work(agent_id)
        if picked is not None:
            assert picked.agent_id == agent_id

    # -- messages -----------------------------------------------------------------------

    @rule(
        conversation_id=st.sampled_from(CONVERSATION_IDS),
        intent=INBOUND_INTENTS,
        skills=SKILLS,
    )
    def customer_writes(self, conversation_id: str, intent: str, skills: frozenset[str]) -> None:
        before = self.engine.conversation(conversation_id)
        agents = self.engine.agents()
        outcome = self.engine.handle(
            IncomingMessage(
                self._message_id(),
                conversation_id,
                "inbound",
                intent,
                skills=skills if before is None else frozenset(),
            ),
            Classification(intent, 1.0, "rule"),
        )
        self.message_ids.append(outcome.message_id)
        after = outcome.conversation
        activating = outcome.decision.action in (Action.ACTIVATE, Action.ESCALATE)
        if activating and before is None:
            covered("new work")
            assert outcome.routing.agent_id == brute_force_best_agent(agents, skills)
        if activating and before is not None and self._returning(before):
            self._check_sticky(before, agents, outcome.routing.reason, after)
        if (
            activating
            and before is not None
            and before.awaiting is Awaiting.AGENT
            and before.respond_by is not None
        ):
            assert after.respond_by is not None and after.respond_by <= before.respond_by
        if outcome.decision.action is Action.IGNORE and before is not None:
            assert (after.state, after.agent_id, after.respond_by) == (
                before.state,
                before.agent_id,
                before.respond_by,
            )

    @rule(data=st.data(), intent=st.sampled_from(["other", "urgent", "away", "gratitude"]))
    def known_customer_writes_again(self, data: st.DataObject, intent: str) -> None:
        known = [c.id for c in self.engine.conversations()]
        if known:
            self.customer_writes(data.draw(st.sampled_from(known)), intent, frozenset())

    def _returning(self, before: Conversation) -> bool:
        if before.state is State.INACTIVE:
            return True
        return (
            before.state is State.CLOSED
            and before.closed_at is not None
            and self.clock.now() - before.closed_at < timedelta(hours=24)
        )

    def _check_sticky(
        self, before: Conversation, agents: list[Agent], reason: str, after: Conversation
    ) -> None:
        last = next((a for a in agents if a.id == before.last_agent_id), None)
        if last is None:
            covered("returning without a last agent")
            assert reason in ("least_loaded", "queued")
        elif last.status in (AgentStatus.AVAILABLE, AgentStatus.BUSY) and (
            last.load < last.max_concurrency
        ):
            covered(f"sticky to a {last.status.value} agent")
            assert (reason, after.agent_id) == ("sticky", last.id)
        else:
            covered(
                f"sticky refused ({last.status.value}, load {last.load}/{last.max_concurrency})"
            )
            assert reason == "sticky_unavailable"
            assert after.agent_id != last.id

    @rule(
        conversation_id=st.sampled_from(CONVERSATION_IDS),
        intent=st.sampled_from(OUTBOUND),
        agent_id=st.sampled_from(AGENT_IDS),
    )
    def agent_writes(self, conversation_id: str, intent: str, agent_id: str) -> None:
        message = IncomingMessage(
            self._message_id(), conversation_id, "outbound", intent, agent_id=agent_id
        )
        if self.engine.agent(agent_id) is None:
            with pytest.raises(UnknownAgent):
                self.engine.handle(message, Classification(intent, 1.0, "rule"))
            return
        before = self.engine.conversation(conversation_id)
        outcome = self.engine.handle(message, Classification(intent, 1.0, "rule"))
        self.message_ids.append(outcome.message_id)
        if before is not None and before.state is State.INACTIVE and intent != "closing":
            assert outcome.conversation.state is State.INACTIVE

    @rule(data=st.data())
    def replay_a_known_message(self, data: st.DataObject) -> None:
        if not self.message_ids:
            return
        message_id = data.draw(st.sampled_from(self.message_ids))
        state = (self.engine.conversations(), self.engine.agents())
        self.engine.drain_changes()
        again = self.engine.handle(
            IncomingMessage(message_id, "c-1", "inbound", "other"),
            Classification("other", 1.0, "rule"),
        )
        assert again.duplicate
        assert (self.engine.conversations(), self.engine.agents()) == state
        assert self.engine.drain_changes().is_empty()

    # -- conversations by hand -----------------------------------------------------------

    @rule(conversation_id=st.sampled_from(CONVERSATION_IDS))
    def close_by_hand(self, conversation_id: str) -> None:
        if self.engine.conversation(conversation_id) is not None:
            closed = self.engine.close_conversation(conversation_id, "resolved")
            assert closed.state is State.CLOSED and closed.agent_id is None

    @rule(conversation_id=st.sampled_from(CONVERSATION_IDS))
    def pause_by_hand(self, conversation_id: str) -> None:
        found = self.engine.conversation(conversation_id)
        if found is not None and found.state is not State.CLOSED:
            assert self.engine.inactivate_conversation(conversation_id).state is State.INACTIVE

    # -- time ---------------------------------------------------------------------------

    @rule(seconds=st.sampled_from(JUMPS))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        events = self.engine.tick()
        assert [e.at for e in events] == sorted(e.at for e in events)
        deadline = self.engine.next_deadline()
        assert deadline is None or deadline > self.clock.now()
        for event in events:
            if event.kind is EventKind.INACTIVATED and event.reason == "customer_silent":
                conversation = self.engine.conversation(event.conversation_id or "")
                assert conversation is not None
                assert conversation.last_outbound_at is not None
                assert event.at == conversation.last_outbound_at + timedelta(minutes=30)

    @rule()
    def restart_from_the_store(self) -> None:
        """A new engine on the same store sees exactly the same world."""
        self.engine.drain_changes()
        restarted = Engine(self.engine.settings, DEFAULT_WORKFLOW, self.clock, self.store)
        assert restarted.conversations() == self.engine.conversations()
        assert restarted.agents() == self.engine.agents()
        assert [c.id for c in restarted.queue()] == [c.id for c in self.engine.queue()]
        assert restarted.next_deadline() == self.engine.next_deadline()
        assert restarted.drain_changes().is_empty()
        self.engine = restarted

    # -- after every step ---------------------------------------------------------------

    @invariant()
    def spec_invariants_hold(self) -> None:
        EXAMPLES["steps"] += 1
        engine = self.engine
        check_invariants(engine)
        agents = self._agents()
        changes = engine.drain_changes()
        for event in changes.events:
            if event.kind is not EventKind.ASSIGNED or event.agent_id is None:
                continue
            agent = agents[event.agent_id]
            if event.reason == "least_loaded":
                assert event.data["load"] <= agent.preferred_concurrency, event
            else:
                assert event.data["load"] <= agent.max_concurrency, event
        for agent_id, agent in agents.items():
            previous = self.loads.get(agent_id, 0)
            if agent.load > agent.max_concurrency:
                assert agent.load <= previous, "load raised above the maximum"
            self.loads[agent_id] = agent.load
        # what the service persists is what the engine holds, and so is the store
        for conversation_id, snapshot in changes.conversations.items():
            assert engine.conversation(conversation_id) == snapshot
            assert self.store.get_conversation(conversation_id) == snapshot
        for agent_id, agent_snapshot in changes.agents.items():
            assert agents[agent_id] == agent_snapshot


@pytest.mark.slow
def test_engine_invariants_hold_under_random_operation() -> None:
    EXAMPLES.update(count=0, steps=0)
    COVERAGE.clear()
    run_state_machine_as_test(
        EngineMachine,
        settings=settings(
            max_examples=2000,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print(
        f"\nengine state machine: {EXAMPLES['count']} examples, {EXAMPLES['steps']} checked steps"
    )
    for case, count in sorted(COVERAGE.items()):
        print(f"  {case}: {count}")
    assert EXAMPLES["count"] >= 2000
