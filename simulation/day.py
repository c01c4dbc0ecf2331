"""One simulated day: the discrete-event loop around the real engine and classifier.

Events (customer messages, agents finishing a reply, shifts and breaks, samples) sit in
a heap by time. Before each one, the engine's own timers that fall due are fired at
their deadlines (`Engine.tick` on a `ManualClock`), so inactivity and auto-close happen
exactly when they would live. Every change the engine reports (`drain_changes`) updates
a mirror of the conversations, as the desk sees them; an idle agent then takes the top
conversation of its worklist awaiting it, in the engine's priority order.

Agents are people: one reply at a time, reading the customer's unread messages and
writing the reply takes time (`staffing.reply_seconds`), breaks and shift ends wait
until the reply in hand is sent.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import IntEnum

from tidal.engine.core.clock import ManualClock
from tidal.engine.core.engine import Engine
from tidal.engine.core.intents import Classification, Direction
from tidal.engine.core.model import Awaiting, EventKind, IncomingMessage, State
from tidal.engine.core.priority import queue_key
from tidal.engine.core.settings import RoutingSettings
from tidal.engine.core.workflow import WorkflowRules
from tidal.simulation.customers import Ending, Plan
from tidal.simulation.staffing import AgentPlan, reply_seconds
from tidal.simulation.texts import TextPools
from tidal.simulation.traffic import DAY_START, Traffic

#: an agent closes a conversation it holds by hand once it has waited on the customer
#: this long with nothing said on either side (the same under every policy; with the
#: inactive state such a conversation is usually paused, and off the agent's list, by then)
WRAP_UP_SECONDS = 60 * 60.0
SAMPLE_EVERY = 5 * 60.0

Classify = Callable[[str, Direction], Classification]


class Ev(IntEnum):
    """Event kinds; events at the same moment run in the order they were scheduled."""

    SHIFT_START = 0
    BREAK_END = 1
    CUSTOMER = 2
    AGENT_DONE = 3
    WRAP_UP = 4
    BREAK_START = 5
    SHIFT_END = 6
    SAMPLE = 7


@dataclass(slots=True)
class Customer:
    plan: Plan
    sent: int = 0  # messages sent so far (message ids)
    asked: int = 0  # questions sent so far (the return question included)
    awaiting_reply: bool = False
    wait_start: float | None = None
    picked_up: bool = False  # an agent has started on the reply this wait is for
    unread_words: int = 0
    replies: int = 0
    ended: bool = False
    returned: bool = False
    resolved: bool = False
    next_planned: bool = False  # a follow-up or ending is already on its way


@dataclass(slots=True)
class AgentRun:
    plan: AgentPlan
    on_shift: bool = False
    away: bool = False
    composing: str | None = None
    pending: str | None = None  # "away" or "offline", applied once the reply is sent


@dataclass(slots=True)
class Observations:
    """What happened, for `metrics.py`."""

    waits: list[tuple[str, float]] = field(default_factory=list)  # (kind, seconds)
    #: (kind, seconds) from the start of a wait until an agent starts on the reply
    pickups: list[tuple[str, float]] = field(default_factory=list)
    unanswered: list[tuple[str, float]] = field(default_factory=list)  # censored at day end
    samples: list[tuple[float, int, int, int]] = field(default_factory=list)
    # (t, load of available agents, their preferred sum, queue length)
    resolved: dict[str, int] = field(default_factory=dict)  # by kind
    conversations: dict[str, int] = field(default_factory=dict)  # by kind
    reactivations: int = 0
    reactivations_same_agent: int = 0
    ignored_questions: int = 0
    closed_by: dict[str, int] = field(default_factory=dict)
    inactivated_by: dict[str, int] = field(default_factory=dict)
    messages: int = 0
    agent_seconds: float = 0.0  # on shift, breaks excluded
    writing_seconds: float = 0.0  # reading and writing replies
    picks: int = 0
    picks_with_a_choice: int = 0  # more than one conversation awaited the agent


class Day:
    def __init__(
        self,
        traffic: Traffic,
        routing: RoutingSettings,
        workflow: WorkflowRules,
        texts: TextPools,
        classify: Classify,
        progress: Callable[[float], None] | None = None,
    ) -> None:
        self.traffic = traffic
        self.texts = texts
        self.classify = classify
        self.progress = progress
        self.clock = ManualClock(DAY_START)
        self.engine = Engine(routing, workflow, self.clock)
        self.preferred = routing.agents.preferred_concurrency
        self.maximum = routing.agents.max_concurrency
        self.obs = Observations()
        self.customers = {p.id: Customer(p) for p in traffic.plans}
        self.agents = {a.id: AgentRun(a) for a in traffic.agents}
        self.state: dict[str, State] = {}
        self.awaiting: dict[str, Awaiting | None] = {}
        self.keys: dict[str, tuple[float, float, str]] = {}
        self.holder: dict[str, str] = {}
        self.held: dict[str, set[str]] = {a: set() for a in self.agents}
        self.queued: set[str] = set()
        self.returning: dict[str, str | None] = {}  # reactivated -> its last agent
        self._heap: list[tuple[float, int, int, str, str]] = []
        self._seq = 0
        self.now = 0.0

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> Observations:
        for plan in self.traffic.plans:
            self._at(plan.arrival, Ev.CUSTOMER, plan.id, "opening")
            self.obs.conversations[plan.kind] = self.obs.conversations.get(plan.kind, 0) + 1
        for agent in self.traffic.agents:
            self._at(agent.shift_start, Ev.SHIFT_START, agent.id)
            for start, end in agent.breaks:
                self._at(start, Ev.BREAK_START, agent.id)
                self._at(end, Ev.BREAK_END, agent.id)
            self._at(agent.shift_end, Ev.SHIFT_END, agent.id)
            self.obs.agent_seconds += agent.working_seconds
        t = SAMPLE_EVERY
        while t <= self.traffic.end:
            self._at(t, Ev.SAMPLE, "")
            t += SAMPLE_EVERY
        engine, heap = self.engine, self._heap
        reported = 0.0
        end = self.traffic.end
        while heap and heap[0][0] <= end:
            # the engine's timers due before the next event fire first, at their deadlines;
            # what they cause (a freed slot filled, an agent woken) may come before it too
            deadline = engine.next_deadline()
            if deadline is not None:
                due = (deadline - DAY_START).total_seconds()
                if due <= heap[0][0]:
                    self.clock.set(max(deadline, self.clock.now()))
                    self.now = max(due, self.now)
                    engine.tick()
                    self._absorb()
                    continue
            t, _, kind, who, what = heapq.heappop(heap)
            self.clock.set(max(DAY_START + timedelta(seconds=t), self.clock.now()))
            self.now = t
            self._dispatch(Ev(kind), who, what)
            if self.progress is not None and t - reported >= 600:
                self.progress(t - reported)
                reported = t
        self._finish()
        if self.progress is not None:
            self.progress(self.traffic.end - reported)
        return self.obs

    def _at(self, t: float, kind: Ev, who: str, what: str = "") -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, int(kind), who, what))

    def _dispatch(self, kind: Ev, who: str, what: str) -> None:
        if kind is Ev.CUSTOMER:
            self._customer_sends(self.customers[who], what)
        elif kind is Ev.AGENT_DONE:
            self._agent_sends(self.agents[who])
        elif kind is Ev.WRAP_UP:
            self._wrap_up(self.customers[who], what)
        elif kind is Ev.SAMPLE:
            self._sample()
        else:
            self._roster(self.agents[who], kind)

    # -- the engine's changes, as the desk sees them ---------------------------------

    def _absorb(self) -> None:
        changes = self.engine.drain_changes()
        wake: set[str] = set()
        for cid, c in changes.conversations.items():
            self.state[cid] = c.state
            self.awaiting[cid] = c.awaiting
            self.keys[cid] = queue_key(c)
            if c.state is State.QUEUED:
                self.queued.add(cid)
            else:
                self.queued.discard(cid)
            holder = c.agent_id if c.state is State.ASSIGNED else None
            previous = self.holder.get(cid)
            if previous != holder:
                if previous is not None:
                    self.held[previous].discard(cid)
                    del self.holder[cid]
                if holder is not None:
                    self.held[holder].add(cid)
                    self.holder[cid] = holder
            if holder is not None and c.awaiting is Awaiting.AGENT:
                wake.add(holder)
        for event in changes.events:
            kind = event.kind
            if kind is EventKind.REACTIVATED or kind is EventKind.REOPENED:
                assert event.conversation_id is not None
                self.returning[event.conversation_id] = event.agent_id
                self.obs.reactivations += 1
            elif kind is EventKind.ASSIGNED and event.conversation_id in self.returning:
                last = self.returning.pop(event.conversation_id)
                if last is not None and last == event.agent_id:
                    self.obs.reactivations_same_agent += 1
            elif kind is EventKind.CLOSED and event.reason is not None:
                self.obs.closed_by[event.reason] = self.obs.closed_by.get(event.reason, 0) + 1
            elif kind is EventKind.INACTIVATED and event.reason is not None:
                paused = self.obs.inactivated_by
                paused[event.reason] = paused.get(event.reason, 0) + 1
        for agent_id in sorted(wake):
            self._pick(self.agents[agent_id])

    # -- customers --------------------------------------------------------------------

    def _customer_sends(self, customer: Customer, role: str) -> None:
        plan = customer.plan
        if role == "opening":
            text = plan.questions[0]
        elif role == "followup":
            text = plan.questions[customer.asked]
        elif role == "return":
            if self._return_called_off(customer):
                return
            text = plan.return_question or plan.questions[0]
            customer.returned = True
        elif role == "away":
            text = plan.away_text or ""
        else:  # the ending: decline or thanks
            text = plan.ending_text or ""
            customer.ended = True
        if role in ("followup", "ending"):
            customer.next_planned = False
        question = role in ("opening", "followup", "return")
        customer.sent += 1
        self.obs.messages += 1
        outcome = self.engine.handle(
            IncomingMessage(
                message_id=f"{plan.id}:{customer.sent}",
                conversation_id=plan.id,
                direction="inbound",
                text=text,
                customer_id=plan.id,
                skills=plan.skills,
            ),
            self.classify(text, "inbound"),
        )
        if question:
            customer.asked += 1
            customer.awaiting_reply = True
            customer.unread_words += len(text.split())
        if outcome.conversation.awaiting is Awaiting.AGENT:
            if customer.wait_start is None:
                customer.wait_start = self.now
                customer.picked_up = False
            if not question:
                # an ending or a "brb" the classifier took for a request: the agent
                # will answer it, and the customer reads that answer
                customer.awaiting_reply = True
                customer.unread_words += len(text.split())
        elif question:
            self.obs.ignored_questions += 1
        if outcome.conversation.awaiting is Awaiting.CUSTOMER:
            self._plan_wrap_up(customer)
        self._absorb()

    @staticmethod
    def _return_called_off(customer: Customer) -> bool:
        """A return is planned at the offer; it is off if the customer already ended."""
        return customer.ended or customer.returned

    def _on_reply(self, customer: Customer, role: str) -> None:
        """The customer reads the agent's reply and plans its next message."""
        plan = customer.plan
        if customer.wait_start is not None:
            self.obs.waits.append((plan.kind, self.now - customer.wait_start))
            customer.wait_start = None
        customer.unread_words = 0
        if not customer.awaiting_reply:
            return
        customer.awaiting_reply = False
        if role == "closing" or customer.next_planned:
            return
        if role == "answer":
            index = customer.asked - 1
            if plan.dark_after == index and plan.away_text is not None:
                self._at(self.now + min(plan.delays[index], 30.0), Ev.CUSTOMER, plan.id, "away")
            delay = plan.dark_seconds if plan.dark_after == index else plan.delays[index]
            self._at(self.now + delay, Ev.CUSTOMER, plan.id, "followup")
            customer.next_planned = True
            return
        # the offer of more help: every question so far is answered
        finished = plan.ending is not Ending.RETURN or customer.returned
        if finished and not customer.resolved:
            customer.resolved = True
            self.obs.resolved[plan.kind] = self.obs.resolved.get(plan.kind, 0) + 1
        if customer.ended:
            return
        if plan.ending is Ending.SILENCE or (
            plan.ending is Ending.RETURN and not customer.returned
        ):
            if plan.ending is Ending.RETURN:
                self._at(self.now + plan.return_after, Ev.CUSTOMER, plan.id, "return")
            return
        self._at(self.now + plan.ending_delay, Ev.CUSTOMER, plan.id, "ending")
        customer.next_planned = True

    def _plan_wrap_up(self, customer: Customer) -> None:
        marker = f"{customer.sent}:{customer.replies}"
        self._at(self.now + WRAP_UP_SECONDS, Ev.WRAP_UP, customer.plan.id, marker)

    def _wrap_up(self, customer: Customer, marker: str) -> None:
        cid = customer.plan.id
        quiet = marker == f"{customer.sent}:{customer.replies}"
        held = self.state.get(cid) is State.ASSIGNED
        if quiet and held and self.awaiting.get(cid) is Awaiting.CUSTOMER:
            self.engine.close_conversation(cid, "agent_wrap_up")
            self._absorb()

    # -- agents -----------------------------------------------------------------------

    def _pick(self, agent: AgentRun) -> None:
        if agent.composing is not None or not agent.on_shift or agent.away or agent.pending:
            return
        waiting = [
            cid for cid in self.held[agent.plan.id] if self.awaiting.get(cid) is Awaiting.AGENT
        ]
        if not waiting:
            return
        self.obs.picks += 1
        if len(waiting) > 1:
            self.obs.picks_with_a_choice += 1
        keys = self.keys
        cid = min(waiting, key=keys.__getitem__)
        customer = self.customers[cid]
        if customer.wait_start is not None and not customer.picked_up:
            customer.picked_up = True
            self.obs.pickups.append((customer.plan.kind, self.now - customer.wait_start))
        role = self._reply_role(customer)
        rng = self._reply_rng(cid, customer.replies)
        text = self.texts.draw(role, rng)
        seconds = reply_seconds(agent.plan, customer.unread_words, len(text.split()), rng)
        agent.composing = cid
        self.obs.writing_seconds += seconds
        self._at(self.now + seconds, Ev.AGENT_DONE, agent.plan.id)

    def _reply_rng(self, cid: str, replies: int) -> random.Random:
        return random.Random(f"{self.traffic.seed}:{cid}:{replies}")

    @staticmethod
    def _reply_role(customer: Customer) -> str:
        plan = customer.plan
        if customer.ended:
            return "closing"
        if customer.asked < len(plan.questions):
            return "answer"
        return "offer"

    def _agent_sends(self, agent: AgentRun) -> None:
        cid = agent.composing
        agent.composing = None
        assert cid is not None
        customer = self.customers[cid]
        if self.state.get(cid) is not State.CLOSED:
            # what the reply says follows what the customer has written by now (a
            # follow-up may have come in while the agent wrote); its length was
            # estimated when the agent started, from the same draw
            role = self._reply_role(customer)
            text = self.texts.draw(role, self._reply_rng(cid, customer.replies))
            customer.replies += 1
            self.obs.messages += 1
            self.engine.handle(
                IncomingMessage(
                    message_id=f"{cid}:a{customer.replies}",
                    conversation_id=cid,
                    direction="outbound",
                    text=text,
                    agent_id=agent.plan.id,
                ),
                self.classify(text, "outbound"),
            )
            self._on_reply(customer, role)
            self._absorb()
            if self.awaiting.get(cid) is Awaiting.CUSTOMER:
                self._plan_wrap_up(customer)
        if agent.pending is not None:
            pending, agent.pending = agent.pending, None
            self._set_status(agent, pending)
        self._pick(agent)

    def _roster(self, agent: AgentRun, kind: Ev) -> None:
        if kind is Ev.SHIFT_START:
            agent.on_shift = True
            self._set_status(agent, "available")
        elif kind is Ev.BREAK_START:
            if agent.composing is None:
                self._set_status(agent, "away")
            else:
                agent.pending = "away"
        elif kind is Ev.BREAK_END:
            if agent.pending == "away":
                agent.pending = None
            self._set_status(agent, "available")
        elif kind is Ev.SHIFT_END:
            if agent.composing is not None:
                agent.pending = "offline"
            else:
                self._set_status(agent, "offline")
        self._pick(agent)

    def _set_status(self, agent: AgentRun, status: str) -> None:
        plan = agent.plan
        agent.away = status == "away"
        if status == "offline":
            agent.on_shift = False
        self.engine.upsert_agent(
            plan.id,
            status=status,
            preferred_concurrency=self.preferred,
            max_concurrency=self.maximum,
            skills=plan.skills,
        )
        self._absorb()

    # -- measuring --------------------------------------------------------------------

    def _sample(self) -> None:
        load = preferred = 0
        for run in self.agents.values():
            if run.on_shift and not run.away:
                load += len(self.held[run.plan.id])
                preferred += self.preferred
        self.obs.samples.append((self.now, load, preferred, len(self.queued)))

    def _finish(self) -> None:
        for customer in self.customers.values():
            if customer.wait_start is not None:
                waited = self.traffic.end - customer.wait_start
                self.obs.unanswered.append((customer.plan.kind, waited))
