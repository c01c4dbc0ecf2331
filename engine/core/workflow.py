"""Workflow rules (docs/rules.md#workflow-rules): the first rule whose conditions hold gives the
action.

Rules are evaluated on a message whose intent is already known. `DEFAULT_WORKFLOW`
mirrors the shipped `rules/workflow.yaml`, so the core works without reading files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tidal.engine.core.intents import Direction
from tidal.engine.core.model import Action, Decision

#: The `state` a workflow rule sees for a conversation that does not exist yet.
NEW_STATE = "new"
#: The `awaiting` a workflow rule sees when nobody is awaited.
NOBODY = "none"

#: Actions that only make sense for agents' messages (docs/concepts.md#what-a-message-does marks
#: them outbound).
OUTBOUND_ONLY_ACTIONS = frozenset({Action.AWAIT_CUSTOMER, Action.HOLD})
#: Flags a rule may set on the conversation besides its action.
KNOWN_FLAGS = frozenset({"opted_out"})


@dataclass(frozen=True, slots=True)
class Conditions:
    """What must hold for a rule to fire; `None` means "any"."""

    direction: Direction | None = None
    intents: frozenset[str] | None = None
    after: frozenset[str] | None = None
    states: frozenset[str] | None = None
    awaiting: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    min_confidence: float = 0.0

    def holds(self, ctx: MessageContext) -> bool:
        return (
            (self.direction is None or self.direction == ctx.direction)
            and (self.intents is None or ctx.intent in self.intents)
            and (self.after is None or (ctx.after is not None and ctx.after in self.after))
            and (self.states is None or ctx.state in self.states)
            and (self.awaiting is None or ctx.awaiting in self.awaiting)
            and (self.channels is None or ctx.channel in self.channels)
            and ctx.confidence >= self.min_confidence
        )

    def covers(self, other: Conditions) -> bool:
        """True if every message matching `other` also matches these conditions."""
        return (
            _covers(self.direction, other.direction)
            and _covers_set(self.intents, other.intents)
            and _covers_set(self.after, other.after)
            and _covers_set(self.states, other.states)
            and _covers_set(self.awaiting, other.awaiting)
            and _covers_set(self.channels, other.channels)
            and self.min_confidence <= other.min_confidence
        )


def _covers(mine: str | None, theirs: str | None) -> bool:
    return mine is None or mine == theirs


def _covers_set(mine: frozenset[str] | None, theirs: frozenset[str] | None) -> bool:
    return mine is None or (theirs is not None and theirs <= mine)


@dataclass(frozen=True, slots=True)
class WorkflowRule:
    id: str
    when: Conditions
    do: Action
    reason: str | None = None
    sets: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class MessageContext:
    """Everything a rule condition may look at."""

    direction: Direction
    intent: str
    confidence: float
    state: str
    awaiting: str
    channel: str | None
    after: str | None


#: The decision when no rule matches: the business still owes a reply to a customer
#: (activate), and an agent's message hands the turn to the customer.
_FALLBACK = {
    "inbound": Decision(Action.ACTIVATE, None, "no_rule_matched"),
    "outbound": Decision(Action.AWAIT_CUSTOMER, None, "no_rule_matched"),
}


@dataclass(frozen=True, slots=True)
class WorkflowRules:
    rules: tuple[WorkflowRule, ...] = field(default_factory=tuple)

    def match(self, ctx: MessageContext) -> WorkflowRule | None:
        for rule in self.rules:
            if rule.when.holds(ctx):
                return rule
        return None

    def decide(self, ctx: MessageContext) -> tuple[Decision, frozenset[str]]:
        """The decision for a message, and the flags the matching rule sets."""
        rule = self.match(ctx)
        if rule is None:
            return _FALLBACK[ctx.direction], frozenset()
        return Decision(rule.do, rule.id, rule.reason), rule.sets


def shadowed_rules(rules: Iterable[WorkflowRule]) -> list[tuple[int, int]]:
    """(index of a rule that can never fire, index of the earlier rule that covers it)."""
    seen: list[WorkflowRule] = []
    found: list[tuple[int, int]] = []
    for index, rule in enumerate(rules):
        for earlier_index, earlier in enumerate(seen):
            if earlier.when.covers(rule.when):
                found.append((index, earlier_index))
                break
        seen.append(rule)
    return found


def _rule(
    rule_id: str,
    do: Action,
    reason: str | None = None,
    sets: frozenset[str] = frozenset(),
    **when: object,
) -> WorkflowRule:
    return WorkflowRule(rule_id, Conditions(**when), do, reason, sets)  # type: ignore[arg-type]


DEFAULT_WORKFLOW = WorkflowRules(
    (
        _rule(
            "close-on-opt-out",
            Action.CLOSE,
            "opted_out",
            frozenset({"opted_out"}),
            direction="inbound",
            intents=frozenset({"opt_out"}),
        ),
        _rule(
            "close-when-no-more-help-needed",
            Action.CLOSE,
            "customer_declined_more_help",
            direction="inbound",
            intents=frozenset({"deny", "gratitude", "goodbye"}),
            after=frozenset({"offer_more_help"}),
        ),
        _rule(
            "close-on-goodbye",
            Action.CLOSE,
            "customer_goodbye",
            direction="inbound",
            intents=frozenset({"goodbye"}),
        ),
        # "ok" to what the agent just said, while the agent holds the conversation,
        # answers the agent ("sounds good" to a proposal): leaving it unseen would keep
        # the customer waiting in silence. "ok" to a hold or to an offer of more help, and
        # "ok" to a paused or queued conversation, stay ignored (the rule below).
        _rule(
            "activate-when-customer-acknowledges-agent",
            Action.ACTIVATE,
            "customer_answered",
            direction="inbound",
            intents=frozenset({"acknowledgement"}),
            after=frozenset({"other"}),
            states=frozenset({"assigned"}),
            awaiting=frozenset({"customer"}),
        ),
        _rule(
            "ignore-thanks-and-acknowledgements",
            Action.IGNORE,
            None,
            direction="inbound",
            intents=frozenset({"gratitude", "acknowledgement"}),
        ),
        _rule(
            "pause-when-customer-away",
            Action.INACTIVATE,
            "customer_away",
            direction="inbound",
            intents=frozenset({"away"}),
        ),
        _rule(
            "escalate-urgent-or-human-request",
            Action.ESCALATE,
            "urgent",
            direction="inbound",
            intents=frozenset({"urgent", "request_human"}),
        ),
        _rule(
            "activate-on-anything-else", Action.ACTIVATE, "customer_message", direction="inbound"
        ),
        _rule(
            "close-when-agent-closes",
            Action.CLOSE,
            "agent_closed",
            direction="outbound",
            intents=frozenset({"closing"}),
        ),
        _rule(
            "hold-when-agent-checks",
            Action.HOLD,
            "agent_hold",
            direction="outbound",
            intents=frozenset({"hold"}),
        ),
        _rule(
            "await-customer-after-agent-reply",
            Action.AWAIT_CUSTOMER,
            "agent_replied",
            direction="outbound",
        ),
    )
)
