"""Replay input (docs/cli.md#replay): validating JSON lines into conversations with resolved times.

Input is one conversation per JSON line::

    {"id": "conv-1",
     "agents": [{"id": "a-1", "preferred_concurrency": 2, "max_concurrency": 4}],
     "messages": [{"direction": "inbound", "text": "my card is blocked",
                   "at": "2026-11-25T10:00:00Z"},
                  {"direction": "outbound", "text": "Unblocked!", "agent_id": "a-1"}]}

`agents` is optional (one available agent `a-1`, preferred 3, maximum 5); `at` is
optional (one second after the previous message; the first message defaults to one
second per message before the first explicit `at`, or to `DEFAULT_START`); an
outbound message without `agent_id` comes from the conversation's first agent.
Every problem of a line is reported, as `source:line: what`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
)

from tidal.engine.core.intents import Direction

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
#: Gap between messages without an explicit `at`.
DEFAULT_GAP = timedelta(seconds=1)
#: The longest text a message may carry (as over HTTP, docs/http-api.md).
MAX_TEXT_BYTES = 64 * 1024

NonEmpty = Annotated[StrictStr, Field(min_length=1)]


class _AgentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: NonEmpty
    preferred_concurrency: Annotated[StrictInt, Field(ge=0)] = 3
    max_concurrency: Annotated[StrictInt, Field(ge=1)] = 5
    status: Literal["available", "busy", "away", "offline"] = "available"
    skills: list[NonEmpty] = []


class _MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direction: Literal["inbound", "outbound"]
    text: StrictStr
    at: AwareDatetime | None = None
    agent_id: NonEmpty | None = None
    message_id: NonEmpty | None = None


class _ConversationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: NonEmpty
    agents: list[_AgentIn] | None = None
    messages: Annotated[list[_MessageIn], Field(min_length=1)]
    channel: NonEmpty | None = None
    customer_id: NonEmpty | None = None
    skills: list[NonEmpty] = []


@dataclass(frozen=True, slots=True)
class ReplayAgent:
    id: str
    preferred_concurrency: int
    max_concurrency: int
    status: str
    skills: frozenset[str]


@dataclass(frozen=True, slots=True)
class ReplayMessage:
    direction: Direction
    text: str
    at: datetime
    agent_id: str | None
    message_id: str


@dataclass(frozen=True, slots=True)
class ReplayConversation:
    """One validated input line, with every message's time and agent resolved."""

    id: str
    line: int
    agents: tuple[ReplayAgent, ...]
    messages: tuple[ReplayMessage, ...]
    channel: str | None
    customer_id: str | None
    skills: frozenset[str]


@dataclass(frozen=True, slots=True)
class ReplayProblem:
    """Why a line could not be replayed, as `source:line: message`."""

    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


class ReplayInputError(ValueError):
    """A line that is not a valid conversation; `problems` says everything wrong with it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_conversation(text: str, line: int) -> ReplayConversation:
    """Validate one JSON line; raises `ReplayInputError` listing every problem."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReplayInputError([f"invalid JSON: {exc.msg} (column {exc.colno})"]) from None
    try:
        parsed = _ConversationIn.model_validate(raw)
    except ValidationError as exc:
        raise ReplayInputError([_describe(err) for err in exc.errors(include_url=False)]) from None
    problems: list[str] = []
    agents = parsed.agents if parsed.agents is not None else [_default_agent()]
    agent_ids = [a.id for a in agents]
    for i, agent in enumerate(agents):
        if agent.preferred_concurrency > agent.max_concurrency:
            problems.append(
                f"agents.{i}: preferred_concurrency ({agent.preferred_concurrency}) is above "
                f"max_concurrency ({agent.max_concurrency})"
            )
        if agent.id in agent_ids[:i]:
            problems.append(f"agents.{i}.id: duplicate agent id {agent.id!r}")
    moments = _moments(parsed.messages, problems)
    messages: list[ReplayMessage] = []
    seen_ids: set[str] = set()
    for i, (message, at) in enumerate(zip(parsed.messages, moments, strict=True)):
        if len(message.text.encode("utf-8")) > MAX_TEXT_BYTES:
            problems.append(f"messages.{i}.text: longer than {MAX_TEXT_BYTES} bytes")
        agent_id = message.agent_id
        if message.direction == "outbound":
            if agent_id is None:
                if not agent_ids:
                    problems.append(f"messages.{i}.agent_id: an outbound message needs an agent")
                else:
                    agent_id = agent_ids[0]
            elif agent_id not in agent_ids:
                problems.append(
                    f"messages.{i}.agent_id: unknown agent {agent_id!r} "
                    f"(this conversation's agents: {', '.join(agent_ids) or 'none'})"
                )
        message_id = message.message_id or f"{parsed.id}#{i}"
        if message_id in seen_ids:
            problems.append(f"messages.{i}.message_id: duplicate message id {message_id!r}")
        seen_ids.add(message_id)
        messages.append(ReplayMessage(message.direction, message.text, at, agent_id, message_id))
    if problems:
        raise ReplayInputError(problems)
    return ReplayConversation(
        id=parsed.id,
        line=line,
        agents=tuple(
            ReplayAgent(
                a.id, a.preferred_concurrency, a.max_concurrency, a.status, frozenset(a.skills)
            )
            for a in agents
        ),
        messages=tuple(messages),
        channel=parsed.channel,
        customer_id=parsed.customer_id,
        skills=frozenset(parsed.skills),
    )


def _default_agent() -> _AgentIn:
    """The agent of a conversation that lists none (docs/cli.md#replay)."""
    return _AgentIn(id="a-1", preferred_concurrency=3, max_concurrency=5)


def _moments(messages: list[_MessageIn], problems: list[str]) -> list[datetime]:
    """Each message's time: its `at`, or one second after the previous message."""
    first_explicit = next(((i, m.at) for i, m in enumerate(messages) if m.at is not None), None)
    if first_explicit is None:
        current = DEFAULT_START
    else:
        index, at = first_explicit
        assert at is not None
        current = at.astimezone(UTC) - DEFAULT_GAP * index
    moments: list[datetime] = []
    for i, message in enumerate(messages):
        if message.at is not None:
            at = message.at.astimezone(UTC)
            if moments and at < moments[-1]:
                problems.append(
                    f"messages.{i}.at: {at.isoformat()} is before the previous message "
                    f"({moments[-1].isoformat()}); messages must be in time order"
                )
                at = moments[-1]
            current = at
        elif moments:
            current = moments[-1] + DEFAULT_GAP
        moments.append(current)
    return moments


def _describe(err: Any) -> str:
    where = ".".join(str(p) for p in err.get("loc", ()))
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        what = "unknown key"
    elif kind == "missing":
        what = "required key is missing"
    elif kind == "model_type" and not where:
        what = "a line must be a JSON object (one conversation)"
    else:
        what = str(err.get("msg", "invalid value"))
    return f"{where}: {what}" if where else what


def parse_lines(
    lines: Iterable[str], source: str
) -> tuple[list[ReplayConversation], list[ReplayProblem]]:
    """The valid conversations of a file, and every problem of the invalid lines.

    Blank lines are skipped; line numbers count them.
    """
    conversations: list[ReplayConversation] = []
    problems: list[ReplayProblem] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            conversations.append(parse_conversation(text, number))
        except ReplayInputError as exc:
            problems.extend(ReplayProblem(source, number, p) for p in exc.problems)
    return conversations, problems
