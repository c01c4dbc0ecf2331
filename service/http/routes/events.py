"""Live events as Server-Sent Events: one agent's stream, and the supervisors' stream.

Send `Last-Event-ID` (the last `id:` received) when reconnecting to get every event
committed since, then live ones (`tidal.service.running.event_streams`). See
`tidal.service.running.live_events` for the wire format.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path
from starlette.responses import StreamingResponse

from tidal.engine.core.engine import Engine
from tidal.service.auth import Caller, require_agent_or, require_role
from tidal.service.http.problems import Problem, problem_responses
from tidal.service.http.routes.deps import ServicesDep
from tidal.service.http.routes.fields import Identifier
from tidal.service.running.event_streams import live_event_stream
from tidal.service.running.services import Services
from tidal.service.tokens import Role

router = APIRouter(tags=["events"])

_SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`text/event-stream`: `id: <n>`, `event: <kind>`, `data: <EventOut JSON>`"
        " per event; `: heartbeat` comments while idle.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


#: event ids are 64-bit in every database: a larger one cannot name an event
MAX_EVENT_ID = 2**63 - 1
_EVENT_ID = re.compile(r"[0-9]{1,19}")


def _last_event_id(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if _EVENT_ID.fullmatch(text) is None or int(text) > MAX_EVENT_ID:
        message = f"must be an event id: digits only, at most {MAX_EVENT_ID}"
        raise Problem(
            "validation",
            f"Last-Event-ID {message}",
            errors=[{"loc": ["header", "Last-Event-ID"], "msg": message, "type": "value_error"}],
        )
    return int(text)


def _stream(services: Services, agent_id: str | None, last_id: int | None) -> StreamingResponse:
    return StreamingResponse(
        live_event_stream(services, agent_id, last_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


LastEventId = Annotated[
    str | None, Header(alias="Last-Event-ID", description="Resume after this event id.")
]


@router.get(
    "/v1/agents/{agent_id}/events",
    summary="An agent's live events (SSE): assignments, reactivations, closes, overdue, status",
    response_class=StreamingResponse,
    responses={**_SSE_DOC, **problem_responses(401, 403, 404)},
)
async def agent_events(
    agent_id: Annotated[Identifier, Path(description="Agent id.")],
    caller: Caller,
    services: ServicesDep,
    last_event_id: LastEventId = None,
) -> StreamingResponse:
    require_agent_or(caller, agent_id, Role.SUPERVISOR)
    last_id = _last_event_id(last_event_id)

    def exists(engine: Engine) -> bool:
        return engine.agent(agent_id) is not None

    if not await services.runtime.execute(exists):
        raise Problem("not-found", f"no agent {agent_id!r}")
    return _stream(services, agent_id, last_id)


@router.get(
    "/v1/events",
    summary="Every agent's live events (SSE, supervisor)",
    response_class=StreamingResponse,
    responses={**_SSE_DOC, **problem_responses(401, 403)},
)
async def all_events(
    caller: Caller, services: ServicesDep, last_event_id: LastEventId = None
) -> StreamingResponse:
    require_role(caller, Role.SUPERVISOR)
    return _stream(services, None, _last_event_id(last_event_id))
