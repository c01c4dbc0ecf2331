"""The engine facade: the one entry point the service, replay and the CLI call.

Single-threaded: callers serialise calls. Every mutating call first fires the timers
that are due at the clock's now, in deadline order, each at its own deadline, so a
replay with a manual clock produces the same history as live time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime

from tidal.engine.core.clock import Clock, ensure_utc
from tidal.engine.core.errors import (
    ConversationClosed,
    InvalidAgentSettings,
    InvalidMessage,
    OutboundWithoutAgent,
    UnknownAgent,
    UnknownConversation,
)
from tidal.engine.core.intents import DIRECTIONS, Classification
from tidal.engine.core.messages import handle_message
from tidal.engine.core.model import (
    Agent,
    AgentStatus,
    Awaiting,
    Changes,
    Conversation,
    Event,
    EventKind,
    IncomingMessage,
    MessageOutcome,
    Priority,
    State,
    Worklist,
)
from tidal.engine.core.priority import explain, queue_key, waiting_on_customer_key
from tidal.engine.core.routing import takes_manual_pickup
from tidal.engine.core.settings import RoutingSettings
from tidal.engine.core.store import InMemoryStore, Store
from tidal.engine.core.workflow import WorkflowRules
from tidal.engine.core.workspace import Workspace


class Engine:
    """Conversations, agents, timers and routing behind one small API (docs/concepts.md)."""

    def __init__(
        self,
        settings: RoutingSettings,
        workflow: WorkflowRules,
        clock: Clock,
        store: Store | None = None,
    ) -> None:
        self._workflow = workflow
        self._clock = clock
        self._store: Store = store if store is not None else InMemoryStore()
        self._ws = Workspace(settings)
        self._watermark = ensure_utc(clock.now())
        self._restore()

    # -- properties -------------------------------------------------------------------

    @property
    def settings(self) -> RoutingSettings:
        return self._ws.settings

    @property
    def workflow(self) -> WorkflowRules:
        return self._workflow

    @property
    def clock(self) -> Clock:
        return self._clock

    # -- messages ---------------------------------------------------------------------

    def handle(self, message: IncomingMessage, classification: Classification) -> MessageOutcome:
        """Decide and apply what one message does; the same message id acts only once."""
        agent = self._validate(message)
        stored = self._store.get_outcome(message.message_id)
        if stored is not None:
            return dataclasses.replace(stored, duplicate=True)
        now = self._advance()
        at = now
        if message.sent_at is not None:
            # a message sent a little earlier keeps its own time, but never before what
            # the engine already processed: history stays in order
            at = min(max(ensure_utc(message.sent_at), self._watermark), now)
        self._watermark = at
        ws = self._ws
        if agent is not None:
            ws.unblock(agent, at)
        outcome = handle_message(ws, self._workflow, message, classification, at, agent)
        self._store.put_outcome(outcome)
        self._commit()
        return outcome

    def _validate(self, message: IncomingMessage) -> Agent | None:
        if not message.message_id or not message.conversation_id:
            raise InvalidMessage("message_id and conversation_id must not be empty")
        if message.direction not in DIRECTIONS:
            raise InvalidMessage(
                f"unknown direction {message.direction!r}: use inbound or outbound"
            )
        if message.sent_at is not None and message.sent_at.tzinfo is None:
            raise InvalidMessage("sent_at must be timezone-aware (UTC)")
        if message.direction == "outbound":
            if not message.agent_id:
                raise OutboundWithoutAgent("an outbound message needs the agent_id that sent it")
            agent = self._ws.agents.get(message.agent_id)
            if agent is None:
                raise UnknownAgent(message.agent_id)
            return agent
        return None

    # -- conversations ----------------------------------------------------------------

    def close_conversation(self, conversation_id: str, reason: str) -> Conversation:
        """Close by hand (desk, supervisor, API); closing a closed one changes nothing."""
        conversation = self._get(conversation_id)
        at = self._now()
        if conversation.state is not State.CLOSED:
            self._ws.close(conversation, reason or "closed", at)
        self._commit()
        return conversation.snapshot()

    def inactivate_conversation(
        self, conversation_id: str, reason: str = "agent_paused"
    ) -> Conversation:
        """Pause by hand: the slot is freed, the agent stays its last agent."""
        conversation = self._get(conversation_id)
        at = self._now()
        if conversation.state is State.CLOSED:  # perhaps a due timer closed it just now
            self._commit()
            raise ConversationClosed(conversation_id)
        if conversation.state is not State.INACTIVE:
            self._ws.inactivate(conversation, reason or "agent_paused", at)
        self._commit()
        return conversation.snapshot()

    def _get(self, conversation_id: str) -> Conversation:
        conversation = self._ws.conversations.get(conversation_id)
        if conversation is None:
            raise UnknownConversation(conversation_id)
        return conversation

    # -- agents -----------------------------------------------------------------------

    def upsert_agent(
        self,
        agent_id: str,
        *,
        status: AgentStatus | str | None = None,
        preferred_concurrency: int | None = None,
        max_concurrency: int | None = None,
        skills: frozenset[str] | set[str] | list[str] | tuple[str, ...] | None = None,
    ) -> Agent:
        """Create or update an agent; routing runs if it gained room (docs/concepts.md#routing)."""
        if not agent_id:
            raise InvalidAgentSettings("agent id must not be empty")
        new_status = _status(status) if status is not None else None
        ws = self._ws
        agent = ws.agents.get(agent_id)
        defaults = ws.settings.agents
        preferred = (
            preferred_concurrency
            if preferred_concurrency is not None
            else (agent.preferred_concurrency if agent else defaults.preferred_concurrency)
        )
        maximum = (
            max_concurrency
            if max_concurrency is not None
            else (agent.max_concurrency if agent else defaults.max_concurrency)
        )
        if preferred < 0 or maximum < 1 or preferred > maximum:
            raise InvalidAgentSettings(
                f"agent {agent_id!r}: need 0 <= preferred_concurrency ({preferred}) "
                f"<= max_concurrency ({maximum}) and max_concurrency >= 1"
            )
        at = self._now()
        events: list[Event] = []
        if agent is None:
            agent = Agent(
                agent_id,
                new_status or AgentStatus.AVAILABLE,
                preferred,
                maximum,
                frozenset(skills or ()),
            )
            ws.agents[agent_id] = agent
            events.append(
                Event(EventKind.AGENT_UPDATED, at, None, agent_id, "created", _agent_data(agent))
            )
            if agent.status is not AgentStatus.AVAILABLE:
                events.append(_status_event(agent, None, at))
        else:
            previous = dataclasses.replace(agent)
            agent.preferred_concurrency = preferred
            agent.max_concurrency = maximum
            if skills is not None:
                agent.skills = frozenset(skills)
            if (previous.preferred_concurrency, previous.max_concurrency, previous.skills) != (
                agent.preferred_concurrency,
                agent.max_concurrency,
                agent.skills,
            ):
                events.append(
                    Event(
                        EventKind.AGENT_UPDATED, at, None, agent_id, "updated", _agent_data(agent)
                    )
                )
            if new_status is not None and new_status is not agent.status:
                agent.status = new_status
                events.append(_status_event(agent, previous.status, at))
        ws.sync_agent(agent)
        ws.emit(events)
        if agent.status is AgentStatus.OFFLINE:
            ws.release_agent(agent, at)
        ws.fill(agent, at)
        self._commit()
        return agent.snapshot()

    def take_more_work(self, agent_id: str) -> Conversation | None:
        """Manual pick-up of the best queued conversation, allowed up to max load."""
        ws = self._ws
        agent = ws.agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(agent_id)
        at = self._now()
        conversation = ws.router.best_queued_for(agent) if takes_manual_pickup(agent) else None
        if conversation is not None:
            ws.emit([ws.router.assign(conversation, agent, at, "manual")])
        self._commit()
        return conversation.snapshot() if conversation is not None else None

    # -- time -------------------------------------------------------------------------

    def tick(self) -> list[Event]:
        """Fire every timer due at the clock's now, in deadline order."""
        first = len(self._ws.changes.events)
        self._advance()
        fired = self._ws.changes.events[first:]
        self._commit()
        return list(fired)

    def next_deadline(self) -> datetime | None:
        return self._ws.timers.next_deadline(self._ws.conversations)

    def _now(self) -> datetime:
        """Fire due timers; the operation that follows happens at the clock's now."""
        now = self._advance()
        self._watermark = now
        return now

    def _advance(self) -> datetime:
        now = ensure_utc(self._clock.now())
        ws = self._ws
        while True:
            due = ws.timers.pop_due(now, ws.conversations)
            if due is None:
                break
            conversation_id, timer, deadline = due
            # a deadline earlier than something already processed (say, after a rules
            # swap shortened a timer) fires at the watermark, so history stays ordered
            at = max(deadline, self._watermark)
            self._watermark = at
            ws.fire(ws.conversations[conversation_id], timer, at)
        return now

    # -- queries ----------------------------------------------------------------------

    def conversation(self, conversation_id: str) -> Conversation | None:
        found = self._ws.conversations.get(conversation_id)
        return found.snapshot() if found is not None else None

    def agent(self, agent_id: str) -> Agent | None:
        found = self._ws.agents.get(agent_id)
        return found.snapshot() if found is not None else None

    def agents(self) -> list[Agent]:
        return [a.snapshot() for _, a in sorted(self._ws.agents.items())]

    def conversations(self) -> list[Conversation]:
        return [c.snapshot() for _, c in sorted(self._ws.conversations.items())]

    def queue(self) -> list[Conversation]:
        """Queued conversations in priority order (docs/concepts.md#adaptive-response-timer)."""
        ws = self._ws
        return [ws.conversations[i].snapshot() for i in ws.router.queued_ids()]

    def worklist(self, agent_id: str) -> Worklist:
        ws = self._ws
        if agent_id not in ws.agents:
            raise UnknownAgent(agent_id)
        held = [ws.conversations[i] for i in ws.router.assigned_to(agent_id)]
        paused = [ws.conversations[i] for i in ws.router.paused_with(agent_id)]
        return Worklist(
            agent_id=agent_id,
            awaiting_agent=tuple(
                c.snapshot()
                for c in sorted((c for c in held if c.awaiting is Awaiting.AGENT), key=queue_key)
            ),
            awaiting_customer=tuple(
                c.snapshot()
                for c in sorted(
                    (c for c in held if c.awaiting is not Awaiting.AGENT),
                    key=waiting_on_customer_key,
                )
            ),
            inactive=tuple(
                c.snapshot()
                for c in sorted(paused, key=lambda c: (c.inactive_since or c.opened_at, c.id))
            ),
        )

    def priority(self, conversation_id: str) -> Priority:
        conversation = self._get(conversation_id)
        return explain(conversation, self._ws.settings_for(conversation))

    # -- rules and persistence ------------------------------------------------------------

    def replace_rules(self, settings: RoutingSettings, workflow: WorkflowRules) -> None:
        """Swap settings and workflow at once; timers follow the new durations."""
        self._workflow = workflow
        ws = self._ws
        ws.settings = settings
        ws.retime_all()
        self._advance()
        self._commit()

    def drain_changes(self) -> Changes:
        """Everything changed since the last drain, for the caller to persist."""
        return self._ws.drain()

    def _commit(self) -> None:
        conversations, agents = self._ws.flush()
        for conversation in conversations:
            self._store.put_conversation(conversation)
        for agent in agents:
            self._store.put_agent(agent)

    def _restore(self) -> None:
        """Rebuild the working state and indices from the store's content."""
        ws = self._ws
        for agent in self._store.agents():
            agent = agent.snapshot()
            agent.load = 0
            ws.agents[agent.id] = agent
        for conversation in self._store.conversations():
            conversation = conversation.snapshot()
            conversation.timers = {}
            ws.conversations[conversation.id] = conversation
            if conversation.state is State.ASSIGNED and conversation.agent_id in ws.agents:
                ws.agents[conversation.agent_id].load += 1
            elif conversation.state is State.ASSIGNED:
                # its agent is gone: the conversation goes back to the queue
                conversation.state = State.QUEUED
                conversation.agent_id = None
        for conversation in ws.conversations.values():
            ws.sync(conversation)
        for agent in ws.agents.values():
            ws.sync_agent(agent)
        ws.forget_unsaved()  # restored as stored: nothing to write back
        # Timers that came due while nobody ran (a restart after downtime) fire at their
        # own deadlines, not at the restart: history reads as if the engine never stopped.
        resumed = _latest_activity(ws.conversations.values(), ws.agents.values())
        if resumed is not None:
            self._watermark = min(resumed, self._watermark)
        ws.emit(ws.router.rebalance(self._watermark))
        self._advance()
        self._commit()


def _status(value: AgentStatus | str) -> AgentStatus:
    try:
        return AgentStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in AgentStatus)
        raise InvalidAgentSettings(f"unknown agent status {value!r}: use one of {known}") from None


def _status_event(agent: Agent, previous: AgentStatus | None, at: datetime) -> Event:
    return Event(
        EventKind.AGENT_STATUS_CHANGED,
        at,
        None,
        agent.id,
        agent.status.value,
        {"from": previous.value if previous else None, "to": agent.status.value},
    )


def _agent_data(agent: Agent) -> dict[str, object]:
    return {
        "status": agent.status.value,
        "preferred_concurrency": agent.preferred_concurrency,
        "max_concurrency": agent.max_concurrency,
        "skills": sorted(agent.skills),
    }


def _latest_activity(
    conversations: Iterable[Conversation], agents: Iterable[Agent]
) -> datetime | None:
    """The latest moment restored state shows something happening: where history resumes."""
    moments = [
        moment
        for c in conversations
        for moment in (
            c.opened_at,
            c.last_inbound_at,
            c.last_outbound_at,
            c.awaiting_since,
            c.inactive_since,
            c.closed_at,
        )
        if moment is not None
    ]
    moments += [a.last_assigned_at for a in agents if a.last_assigned_at is not None]
    return max(moments, default=None)
