"""Accepting one posted message: the use case behind `POST /v1/messages`.

Both routes of that path call `accept_message`: the fast ASGI route
(`tidal.service.http.hot_route`) that serves it, and the FastAPI route
(`tidal.service.http.routes.messages`) that documents it. The steps: authenticate, parse
and check the body, classify early where that is safe
(`tidal.service.handling.classification`), then run `HandleMessage` as one engine job
(`tidal.service.running.runtime`), which answers once the group commit holding its
changes is durable. A duplicate's first answer is read back from the database.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import orjson

from tidal.engine.core.engine import Engine
from tidal.engine.core.errors import UnknownAgent
from tidal.engine.core.intents import Classification
from tidal.engine.core.model import IncomingMessage, MessageOutcome, State
from tidal.service.auth import require_role
from tidal.service.handling.classification import classify_early
from tidal.service.http.problems import Problem
from tidal.service.http.routes.deps import parse_json_body
from tidal.service.http.routes.schemas import MessageIn
from tidal.service.running.rules import ActiveRules
from tidal.service.running.services import Services
from tidal.service.tokens import Role
from tidal.service.views import message_response

#: what `HandleMessage` gives back: the outcome, and the answer's JSON for a new message
#: (None for a duplicate, whose first answer is in the database)
Handled = tuple[MessageOutcome, bytes | None]


async def accept_message(
    services: Services, token: str | None, read_body: Callable[[], Awaitable[bytes]]
) -> bytes:
    """The JSON answer to one posted message, once its effects are durable.

    Authenticates `token` before reading the body; raises `Problem` (and
    `RequestValidationError` for an invalid body) like every other endpoint.
    """
    caller = await services.auth.principal(token)
    require_role(caller, Role.SERVICE)
    body = parse_json_body(MessageIn, await read_body())
    if body.direction == "outbound" and not body.agent_id:
        raise Problem(
            "outbound-without-agent",
            "an outbound message needs the agent_id that sent it",
            status=422,
            extra={"code": "outbound_without_agent"},
        )
    message = IncomingMessage(
        message_id=body.message_id,
        conversation_id=body.conversation_id,
        direction=body.direction,
        text=body.text,
        sent_at=body.sent_at,
        channel=body.channel,
        customer_id=body.customer_id,
        agent_id=body.agent_id,
        skills=frozenset(body.skills),
    )
    rules = services.rules
    early = await classify_early(services, rules, message.text, message.direction)
    outcome, answer = await services.runtime.execute(
        HandleMessage(services, message, rules, early), responses=_answer_to_store
    )
    if answer is not None:
        return answer
    stored = await anyio.to_thread.run_sync(services.store.stored_response, body.message_id)
    response = stored if stored is not None else message_response(outcome, None)
    response["duplicate"] = True
    return orjson.dumps(response)


@dataclass(frozen=True, slots=True)
class HandleMessage:
    """The engine job of one message: classify if not done yet, handle, render the answer.

    Runs on the engine thread, where rules swap, so the classifier and the workflow a
    message meets always belong to the same generation: a classification made for other
    rules than the active ones (`early`) is made again, here, off the event loop.
    """

    services: Services
    message: IncomingMessage
    #: the rules `early` was made for
    rules: ActiveRules
    early: Classification | None

    def __call__(self, engine: Engine) -> Handled:
        classification = self._classification()
        try:
            outcome = engine.handle(self.message, classification)
        except UnknownAgent as exc:
            raise Problem(
                "unknown-agent", exc.message, status=422, extra={"code": exc.code}
            ) from None
        if outcome.duplicate:
            return outcome, None
        conversation = outcome.conversation
        priority = engine.priority(conversation.id) if conversation.state != State.CLOSED else None
        # serialized once, here: the same bytes are stored and sent
        return outcome, orjson.dumps(message_response(outcome, priority))

    def _classification(self) -> Classification:
        services = self.services
        if self.early is not None and services.rules is self.rules:
            return self.early
        started = time.perf_counter()
        classification = services.rules.classifier.classify(
            self.message.text, self.message.direction
        )
        services.metrics.classify_seconds.observe(time.perf_counter() - started)
        return classification


def _answer_to_store(handled: Handled) -> dict[str, bytes]:
    """The answer stored with a new message, so a duplicate gets it back."""
    outcome, answer = handled
    return {outcome.message_id: answer} if answer is not None else {}
