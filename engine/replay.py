"""Replay (docs/cli.md#replay): conversations run dry through the rules, the models and the engine.

Each conversation (see `tidal.engine.replay_input` for the input format) gets its own engine
with a manual clock, so conversations never interfere and the output does not depend
on the wall clock. Output is one `ReplayRecord` per message, in input order, with the
fields of docs/cli.md#replay.

This module reads and writes nothing: the CLI (`service/cli/replay.py`) does the I/O,
and benchmarks drive `Replayer` directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from tidal.engine.core.clock import ManualClock
from tidal.engine.core.engine import Engine
from tidal.engine.core.errors import EngineError
from tidal.engine.core.intents import Classification, Direction
from tidal.engine.core.model import IncomingMessage, MessageOutcome
from tidal.engine.core.settings import RoutingSettings
from tidal.engine.core.workflow import WorkflowRules
from tidal.engine.replay_input import (
    ReplayConversation,
    ReplayInputError,
    ReplayProblem,
    parse_conversation,
    parse_lines,
)

__all__ = [
    "ReplayConversation",
    "ReplayInputError",
    "ReplayProblem",
    "ReplayRecord",
    "Replayer",
    "TextClassifier",
    "parse_conversation",
    "parse_lines",
]


class TextClassifier(Protocol):
    """What replay needs of a classifier (`tidal.engine.classify.pipeline.Classifier`)."""

    def classify(self, text: str, direction: Direction) -> Classification: ...


@dataclass(frozen=True, slots=True)
class ReplayRecord:
    """What one message did (docs/cli.md#replay)."""

    conversation_id: str
    index: int
    direction: Direction
    text: str
    intent: str
    confidence: float
    source: str
    action: str
    rule_id: str | None
    state: str
    awaiting: str | None
    agent_id: str | None
    routing_reason: str

    def to_json(self) -> dict[str, Any]:
        """The replay output object (docs/cli.md#replay), fields in the documented order."""
        return {
            "conversation_id": self.conversation_id,
            "index": self.index,
            "direction": self.direction,
            "text": self.text,
            "intent": self.intent,
            "confidence": self.confidence,
            "source": self.source,
            "action": self.action,
            "rule_id": self.rule_id,
            "state": self.state,
            "awaiting": self.awaiting,
            "agent_id": self.agent_id,
            "routing_reason": self.routing_reason,
        }


class Replayer:
    """Runs conversations through a classifier and a fresh engine each (dry run)."""

    def __init__(
        self, classifier: TextClassifier, settings: RoutingSettings, workflow: WorkflowRules
    ) -> None:
        self.classifier = classifier
        self.settings = settings
        self.workflow = workflow

    def replay(self, conversation: ReplayConversation) -> list[ReplayRecord]:
        """Every message's outcome, in order. Raises `EngineError` if the engine refuses one."""
        return [_record(conversation, i, o) for i, o in enumerate(self.outcomes(conversation))]

    def outcomes(self, conversation: ReplayConversation) -> Iterator[MessageOutcome]:
        """The engine's outcome for each message, in order, as they happen."""
        first = conversation.messages[0].at
        clock = ManualClock(first)
        engine = Engine(self.settings, self.workflow, clock)
        for agent in conversation.agents:
            engine.upsert_agent(
                agent.id,
                status=agent.status,
                preferred_concurrency=agent.preferred_concurrency,
                max_concurrency=agent.max_concurrency,
                skills=agent.skills,
            )
        for message in conversation.messages:
            clock.set(message.at)
            classification = self.classifier.classify(message.text, message.direction)
            yield engine.handle(
                IncomingMessage(
                    message_id=message.message_id,
                    conversation_id=conversation.id,
                    direction=message.direction,
                    text=message.text,
                    sent_at=message.at,
                    channel=conversation.channel,
                    customer_id=conversation.customer_id,
                    agent_id=message.agent_id if message.direction == "outbound" else None,
                    skills=conversation.skills,
                ),
                classification,
            )

    def replay_all(
        self, conversations: Iterable[ReplayConversation], source: str
    ) -> Iterator[ReplayRecord | ReplayProblem]:
        """Every message's record, conversation after conversation; a conversation the
        engine refuses ends with a problem at its line (the others still run)."""
        for conversation in conversations:
            try:
                yield from self.replay(conversation)
            except EngineError as exc:
                yield ReplayProblem(source, conversation.line, f"[{exc.code}] {exc.message}")

    def replay_lines(
        self, lines: Iterable[str], source: str
    ) -> Iterator[ReplayRecord | ReplayProblem]:
        """Parse, then replay, a whole file: input problems first, then the records."""
        conversations, problems = parse_lines(lines, source)
        yield from problems
        yield from self.replay_all(conversations, source)


def _record(conversation: ReplayConversation, index: int, outcome: MessageOutcome) -> ReplayRecord:
    c = outcome.classification
    state = outcome.conversation
    return ReplayRecord(
        conversation_id=conversation.id,
        index=index,
        direction=outcome.direction,
        text=outcome.text,
        intent=c.intent,
        confidence=c.confidence,
        source=c.source,
        action=str(outcome.decision.action),
        rule_id=outcome.decision.rule_id,
        state=str(state.state),
        awaiting=str(state.awaiting) if state.awaiting is not None else None,
        agent_id=state.agent_id,
        routing_reason=outcome.routing.reason,
    )
