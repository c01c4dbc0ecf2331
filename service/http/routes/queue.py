"""The queue: conversations waiting for an agent, in priority order."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from tidal.engine.core.engine import Engine
from tidal.service.auth import Caller, require_role
from tidal.service.http.problems import problem_responses
from tidal.service.http.routes.deps import ServicesDep, json_response
from tidal.service.http.routes.schemas import QueueOut
from tidal.service.tokens import Role
from tidal.service.views import conversation_summary

router = APIRouter(tags=["queue"])


@router.get(
    "/v1/queue",
    response_model=QueueOut,
    summary="Queued conversations in priority order (supervisor)",
    responses=problem_responses(401, 403),
)
async def get_queue(caller: Caller, services: ServicesDep) -> Response:
    require_role(caller, Role.SUPERVISOR)

    def read(engine: Engine) -> list[dict[str, object]]:
        return [conversation_summary(c, engine.priority(c.id)) for c in engine.queue()]

    return json_response({"conversations": await services.runtime.execute(read)})
