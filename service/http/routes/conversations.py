"""A conversation's detail, and closing or pausing it."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Body, Path
from starlette.responses import Response

from tidal.engine.core.engine import Engine
from tidal.engine.core.model import Conversation, Priority, State
from tidal.service.auth import Caller, require_conversation_access
from tidal.service.http.problems import Problem, problem_responses
from tidal.service.http.routes.deps import ServicesDep, json_response
from tidal.service.http.routes.fields import Identifier
from tidal.service.http.routes.schemas import (
    CloseIn,
    ConversationOut,
    ConversationSummary,
    InactivateIn,
)
from tidal.service.tokens import Principal, Role
from tidal.service.views import conversation_detail, conversation_summary

router = APIRouter(tags=["conversations"])
ConversationId = Annotated[Identifier, Path(description="Its id.")]


def _found(engine: Engine, conversation_id: str) -> Conversation:
    conversation = engine.conversation(conversation_id)
    if conversation is None:
        raise Problem("not-found", f"no conversation {conversation_id!r}")
    return conversation


def _priority(engine: Engine, conversation: Conversation) -> Priority | None:
    return engine.priority(conversation.id) if conversation.state != State.CLOSED else None


@router.get(
    "/v1/conversations/{conversation_id}",
    response_model=ConversationOut,
    summary="A conversation: its fields, priority explanation and recent decisions",
    responses=problem_responses(401, 403, 404),
)
async def get_conversation(
    conversation_id: ConversationId, caller: Caller, services: ServicesDep
) -> Response:
    def read(engine: Engine) -> tuple[Conversation, Priority | None]:
        conversation = _found(engine, conversation_id)
        require_conversation_access(caller, conversation, Role.SERVICE, Role.SUPERVISOR)
        return conversation, _priority(engine, conversation)

    conversation, priority = await services.runtime.execute(read)
    limit = services.settings.recent_limit
    decisions = await anyio.to_thread.run_sync(
        services.store.recent_decisions, conversation_id, limit
    )
    events = await anyio.to_thread.run_sync(services.store.recent_events, conversation_id, limit)
    view = conversation_detail(conversation, priority)
    view["recent_decisions"] = decisions
    view["recent_events"] = [e.as_json() for e in events]
    return json_response(view)


async def _change(
    services: ServicesDep,
    caller: Principal,
    conversation_id: str,
    roles: tuple[Role, ...],
    apply: str,
    reason: str,
) -> Response:
    def change(engine: Engine) -> tuple[Conversation, Priority | None]:
        require_conversation_access(caller, _found(engine, conversation_id), *roles)
        if apply == "close":
            changed = engine.close_conversation(conversation_id, reason)
        else:
            changed = engine.inactivate_conversation(conversation_id, reason)
        return changed, _priority(engine, changed)

    conversation, priority = await services.runtime.execute(change)
    return json_response(conversation_summary(conversation, priority))


@router.post(
    "/v1/conversations/{conversation_id}/close",
    response_model=ConversationSummary,
    summary="Close a conversation with a reason (service, supervisor, its agent)",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
async def close_conversation(
    conversation_id: ConversationId,
    caller: Caller,
    services: ServicesDep,
    body: Annotated[CloseIn | None, Body()] = None,
) -> Response:
    reason = (body or CloseIn()).reason
    return await _change(
        services, caller, conversation_id, (Role.SERVICE, Role.SUPERVISOR), "close", reason
    )


@router.post(
    "/v1/conversations/{conversation_id}/inactivate",
    response_model=ConversationSummary,
    summary="Pause a conversation now (its agent, supervisor)",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
async def inactivate_conversation(
    conversation_id: ConversationId,
    caller: Caller,
    services: ServicesDep,
    body: Annotated[InactivateIn | None, Body()] = None,
) -> Response:
    reason = (body or InactivateIn()).reason
    return await _change(
        services, caller, conversation_id, (Role.SUPERVISOR,), "inactivate", reason
    )
