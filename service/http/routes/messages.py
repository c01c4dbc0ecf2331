"""`POST /v1/messages` (classify and route) and `POST /v1/classify` (classify only)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio
import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tidal.engine.core.engine import Engine
from tidal.engine.core.errors import UnknownAgent
from tidal.engine.core.intents import Classification, Direction
from tidal.engine.core.model import IncomingMessage, MessageOutcome, State
from tidal.service.auth import Caller, bearer_token, require_role
from tidal.service.http.problems import Problem, problem_responses
from tidal.service.http.routes.deps import (
    ServicesDep,
    json_body_and_bearer,
    json_response,
    parse_json_body,
)
from tidal.service.http.routes.schemas import ClassificationOut, ClassifyIn, MessageIn, MessageOut
from tidal.service.running.bootstrap import Services
from tidal.service.running.rules import ActiveRules, CachedClassifier
from tidal.service.tokens import Role
from tidal.service.views import classification_view, message_response

router = APIRouter(tags=["messages"])


@router.post(
    "/v1/messages",
    response_model=MessageOut,
    summary="Classify and route one message",
    responses=problem_responses(400, 401, 403, 413, 422, 503),
    openapi_extra=json_body_and_bearer(MessageIn),
)
async def post_message(request: Request) -> Response:
    """Classify the message, apply the workflow and routing, and answer once durable.

    Posting a known `message_id` again returns the first answer with `duplicate: true`
    and changes nothing. The body is `MessageIn`.
    """
    # served by service.hot_route.MessageRoute; this route documents it (and would
    # serve it the same way)
    services: Services = request.app.state.services
    answer = await accept_message(services, bearer_token(request), request.body)
    return Response(answer, media_type="application/json")


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
    early = await _classify_early(services, rules, message.text, message.direction)

    def work(engine: Engine) -> tuple[MessageOutcome, bytes | None]:
        # rules swap on the engine thread, so the classifier and the workflow a message
        # meets here always belong to the same generation: a classification made for
        # other rules than the active ones is made again, here, off the event loop
        if early is not None and services.rules is rules:
            classification = early
        else:
            started = time.perf_counter()
            classification = services.rules.classifier.classify(message.text, message.direction)
            services.metrics.classify_seconds.observe(time.perf_counter() - started)
        try:
            outcome = engine.handle(message, classification)
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

    outcome, answer = await services.runtime.execute(
        work, responses=lambda r: {r[0].message_id: r[1]} if r[1] is not None else {}
    )
    if answer is not None:
        return answer
    stored = await anyio.to_thread.run_sync(services.store.stored_response, body.message_id)
    response = stored if stored is not None else message_response(outcome, None)
    response["duplicate"] = True
    return orjson.dumps(response)


async def _classify_early(
    services: Services, rules: ActiveRules, text: str, direction: Direction
) -> Classification | None:
    """The text's classification for `rules` from the cache or the classifier process,
    or None to leave it to the engine thread (no helper, or not one for `rules`)."""
    helper = services.classifier_process
    if helper is None or not helper.alive or helper.generation != rules.generation:
        return None
    classifier = rules.classifier
    cache = classifier if isinstance(classifier, CachedClassifier) else None
    if cache is not None:
        started = time.perf_counter()
        known = cache.cached(text, direction)
        if known is not None:
            services.metrics.classify_seconds.observe(time.perf_counter() - started)
            return known
    classification = await helper.classify(text, direction)
    if classification is not None and cache is not None:
        cache.remember(text, direction, classification)
    return classification


@router.post(
    "/v1/classify",
    response_model=ClassificationOut,
    summary="Classify one message, without any state change",
    responses=problem_responses(400, 401, 403, 413, 422),
)
async def post_classify(body: ClassifyIn, caller: Caller, services: ServicesDep) -> Response:
    require_role(caller, Role.SERVICE)
    rules = services.rules
    # no state is involved: the helper's answer for these rules is the answer
    result = await _classify_early(services, rules, body.text, body.direction)
    if result is None:
        classifier = rules.classifier
        result = await services.runtime.compute(
            lambda: classifier.classify(body.text, body.direction)
        )
    return json_response(classification_view(result))
