"""The engine's working state and the state changes every entry point shares.

A `Workspace` holds the live conversations and agents, the router and its indices, the
timer heap and the journal of changes. Its operations change a conversation, keep the
indices and timers in step (`sync`) and record events with reason codes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tidal.engine.core.model import (
    Agent,
    Awaiting,
    Changes,
    Conversation,
    Event,
    EventKind,
    MessageOutcome,
    State,
)
from tidal.engine.core.priority import ESCALATED, HOLD, pace_of, queue_key, target_seconds
from tidal.engine.core.routing import Router
from tidal.engine.core.settings import ChannelSettings, RoutingSettings
from tidal.engine.core.timers import Timer, TimerQueue, deadlines


class Workspace:
    def __init__(self, settings: RoutingSettings) -> None:
        self.settings = settings
        self.conversations: dict[str, Conversation] = {}
        self.agents: dict[str, Agent] = {}
        self.router = Router(self.agents, self.conversations)
        self.timers = TimerQueue()
        self.changes = Changes()
        self._dirty_conversations: set[str] = set()
        self._dirty_agents: set[str] = set()

    # -- bookkeeping ------------------------------------------------------------------

    def settings_for(self, conversation: Conversation) -> ChannelSettings:
        return self.settings.for_channel(conversation.channel)

    def sync(self, conversation: Conversation) -> None:
        """After any change: re-index, re-derive the timers, remember to persist."""
        self.router.sync_conversation(conversation)
        self._retime(conversation)
        self._dirty_conversations.add(conversation.id)

    def _retime(self, conversation: Conversation) -> bool:
        """Re-derive the timers of a conversation the router already re-indexed;
        True if they changed."""
        timers = deadlines(conversation, self.settings.for_channel(conversation.channel))
        if timers == conversation.timers:
            return False
        previous = conversation.timers
        fresh = {k: v for k, v in timers.items() if previous.get(k) != v}
        conversation.timers = timers  # a new dict: snapshots never share it
        if fresh:
            self.timers.schedule(conversation.id, fresh)
        return True

    def retime_all(self) -> None:
        """After a settings swap: every timer follows the new durations; only the
        conversations whose deadlines moved need saving."""
        for conversation in self.conversations.values():
            if self._retime(conversation):
                self._dirty_conversations.add(conversation.id)

    def sync_agent(self, agent: Agent) -> None:
        self.router.sync_agent(agent)
        self._dirty_agents.add(agent.id)

    def emit(self, events: list[Event]) -> list[Event]:
        """Record events; every conversation and agent they name is persisted.

        Whoever changed a conversation has re-indexed it (the router does so for its
        own changes); here its timers follow.
        """
        retimed: set[str] = set()
        for event in events:
            conversation_id = event.conversation_id
            if conversation_id is not None and conversation_id not in retimed:
                retimed.add(conversation_id)
                conversation = self.conversations.get(conversation_id)
                if conversation is not None:
                    self._retime(conversation)
                    self._dirty_conversations.add(conversation_id)
            if event.agent_id is not None and event.agent_id in self.agents:
                self._dirty_agents.add(event.agent_id)
        self.changes.events.extend(events)
        return events

    def record_outcome(self, outcome: MessageOutcome) -> None:
        self.changes.messages.append(outcome)

    def flush(self) -> tuple[list[Conversation], list[Agent]]:
        """Snapshots of everything changed since the last flush (versions bumped)."""
        conversations: list[Conversation] = []
        for conversation_id in sorted(self._dirty_conversations):
            conversation = self.conversations[conversation_id]
            conversation.version += 1
            snapshot = conversation.snapshot()
            self.changes.conversations[conversation_id] = snapshot
            conversations.append(snapshot)
        agents: list[Agent] = []
        for agent_id in sorted(self._dirty_agents):
            agent = self.agents[agent_id]
            agent.version += 1
            snapshot_agent = agent.snapshot()
            self.changes.agents[agent_id] = snapshot_agent
            agents.append(snapshot_agent)
        self._dirty_conversations.clear()
        self._dirty_agents.clear()
        return conversations, agents

    def forget_unsaved(self) -> None:
        """Drop pending writes (used after restoring records exactly as stored)."""
        self._dirty_conversations.clear()
        self._dirty_agents.clear()

    def drain(self) -> Changes:
        drained, self.changes = self.changes, Changes()
        return drained

    # -- the customer's and the agent's turns -----------------------------------------

    def await_agent(
        self, conversation: Conversation, at: datetime, *, urgent: bool
    ) -> Event | None:
        """Start (or continue) awaiting the agent; respond_by never moves later
        (docs/concepts.md#adaptive-response-timer)."""
        c = conversation
        cs = self.settings_for(c)
        target = target_seconds(pace_of(c, cs), cs, urgent=urgent)
        candidate = at + timedelta(seconds=target)
        continuing = c.awaiting is Awaiting.AGENT and c.respond_by is not None
        if continuing and c.respond_by is not None and c.respond_by <= candidate:
            if urgent and ESCALATED not in c.boosts:
                # the deadline stays, but the desk must show why it is urgent now
                c.boosts = (*c.boosts, ESCALATED)
                self.sync(c)
                return self._priority_changed(c, at, "escalated")
            return None
        if not continuing:
            c.awaiting = Awaiting.AGENT
            c.awaiting_since = at
            c.boosts = ()
            c.overdue_notified = False
        c.customer_turn_since = None
        c.respond_by = candidate
        c.target_seconds = target
        if urgent and ESCALATED not in c.boosts:
            c.boosts = (*c.boosts, ESCALATED)
        self.sync(c)
        return self._priority_changed(c, at)

    def hold(self, conversation: Conversation, at: datetime) -> Event:
        """The agent asked for a moment: still its turn, due `hold_grace` from now."""
        c = conversation
        cs = self.settings_for(c)
        if c.awaiting is not Awaiting.AGENT:
            c.awaiting = Awaiting.AGENT
            c.awaiting_since = at
        c.customer_turn_since = None
        c.respond_by = at + cs.hold_grace
        c.target_seconds = cs.hold_grace.total_seconds()
        c.boosts = (HOLD,)
        c.overdue_notified = False
        self.sync(c)
        return self._priority_changed(c, at)

    def await_customer(self, conversation: Conversation, at: datetime) -> Event | None:
        """Hand the turn to the customer; the event tells the agent's desk it moved."""
        c = conversation
        if c.awaiting is Awaiting.CUSTOMER:
            self.sync(c)  # the inactivity timer restarts from this latest agent message
            return None
        c.awaiting = Awaiting.CUSTOMER
        c.awaiting_since = at
        c.customer_turn_since = at
        c.respond_by = None
        c.target_seconds = None
        c.boosts = ()
        c.overdue_notified = False
        self.sync(c)
        return self._priority_changed(c, at, "awaiting_customer")

    def _priority_changed(self, c: Conversation, at: datetime, reason: str = "respond_by") -> Event:
        return Event(
            EventKind.PRIORITY_CHANGED,
            at,
            c.id,
            c.agent_id,
            reason,
            {
                "respond_by": c.respond_by.isoformat() if c.respond_by else None,
                "target_seconds": c.target_seconds,
                "pace_seconds": c.pace_seconds,
                "boosts": list(c.boosts),
            },
        )

    # -- leaving and returning ----------------------------------------------------------

    def close(self, conversation: Conversation, reason: str, at: datetime) -> list[Event]:
        c = conversation
        agent = self.router.release(c)
        c.state = State.CLOSED
        c.closed_at = at
        c.close_reason = reason
        self._clear_turn(c)
        c.inactive_since = None
        c.inactive_reason = None
        self.router.sync_conversation(c)  # emit() below re-derives its timers
        events = [Event(EventKind.CLOSED, at, c.id, agent.id if agent else None, reason)]
        if agent is not None:
            self._dirty_agents.add(agent.id)  # the router already re-indexed it
            events += self.router.fill(agent, at)
        return self.emit(events)

    def inactivate(self, conversation: Conversation, reason: str, at: datetime) -> list[Event]:
        c = conversation
        agent = self.router.release(c)
        c.state = State.INACTIVE
        c.inactive_since = at
        c.inactive_reason = reason
        self._clear_turn(c)
        self.router.sync_conversation(c)  # emit() below re-derives its timers
        events = [Event(EventKind.INACTIVATED, at, c.id, c.last_agent_id, reason)]
        if agent is not None:
            self._dirty_agents.add(agent.id)  # the router already re-indexed it
            events += self.router.fill(agent, at)
        return self.emit(events)

    @staticmethod
    def _clear_turn(c: Conversation) -> None:
        c.awaiting = None
        c.awaiting_since = None
        c.respond_by = None
        c.target_seconds = None
        c.boosts = ()
        c.overdue_notified = False

    def requeue(self, conversation: Conversation, reason: str, at: datetime) -> list[Event]:
        """Back to the queue keeping respond_by (agent offline, reply overdue)."""
        agent = self.router.release(conversation)
        if agent is not None:
            self.sync_agent(agent)
        return self.emit(self.router.enqueue(conversation, at, reason))

    def reactivate(
        self, conversation: Conversation, at: datetime, *, urgent: bool
    ) -> tuple[list[Event], str]:
        """Sticky routing of a returning conversation; the routing reason comes back too."""
        c = conversation
        was_closed = c.state is State.CLOSED
        kind = EventKind.REOPENED if was_closed else EventKind.REACTIVATED
        events = [
            Event(
                kind,
                at,
                c.id,
                c.last_agent_id,
                "within_reopen_window" if was_closed else "customer_returned",
            )
        ]
        c.inactive_since = None
        c.inactive_reason = None
        c.closed_at = None
        c.close_reason = None
        changed = self.await_agent(c, at, urgent=urgent)
        if changed is not None:
            events.append(changed)
        agent = self.router.sticky_agent(c)
        if agent is not None:
            events.append(self.router.assign(c, agent, at, "sticky"))
            return self.emit(events), "sticky"
        reason = "sticky_unavailable" if c.last_agent_id is not None else "queued"
        events += self.router.enqueue(c, at, reason)
        if reason == "queued" and c.state is State.ASSIGNED:
            reason = "least_loaded"
        return self.emit(events), reason

    # -- agents -----------------------------------------------------------------------

    def release_agent(self, agent: Agent, at: datetime) -> list[Event]:
        """An agent went offline: its conversations go back (docs/concepts.md#routing)."""
        events: list[Event] = []
        held = [self.conversations[i] for i in self.router.assigned_to(agent.id)]
        awaiting_agent = sorted((c for c in held if c.awaiting is Awaiting.AGENT), key=queue_key)
        for c in sorted(held, key=lambda c: c.id):
            if c.awaiting is not Awaiting.AGENT:
                events += self.inactivate(c, "agent_offline", at)
        for c in awaiting_agent:
            events += self.requeue(c, "agent_offline", at)
        return events

    # -- timers -----------------------------------------------------------------------

    def fire(self, conversation: Conversation, timer: str, at: datetime) -> list[Event]:
        c = conversation
        if timer == Timer.INACTIVITY:
            return self.inactivate(c, "customer_silent", at)
        if timer == Timer.AUTO_CLOSE:
            return self.close(c, "inactivity", at)
        c.overdue_notified = True
        self.sync(c)
        events = self.emit(
            [
                Event(
                    EventKind.RESPONSE_OVERDUE,
                    at,
                    c.id,
                    c.agent_id,
                    "response_overdue",
                    {"respond_by": c.respond_by.isoformat() if c.respond_by else None},
                )
            ]
        )
        if self.settings_for(c).requeue_overdue and c.state is State.ASSIGNED:
            agent = self.agents[c.agent_id] if c.agent_id else None
            if agent is not None:
                agent.blocked_for_overdue = True
                self.sync_agent(agent)
            events += self.requeue(c, "response_overdue", at)
        return events

    def unblock(self, agent: Agent, at: datetime) -> list[Event]:
        """The agent replied: it may get new work again."""
        if not agent.blocked_for_overdue:
            return []
        agent.blocked_for_overdue = False
        self.sync_agent(agent)
        return self.emit(self.router.fill(agent, at))

    def fill(self, agent: Agent, at: datetime) -> list[Event]:
        return self.emit(self.router.fill(agent, at))
