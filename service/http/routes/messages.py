"""`POST /v1/messages` (classify and route) and `POST /v1/classify` (classify only).

What both do is message handling (`tidal.service.handling`); these routes give it HTTP.
`POST /v1/messages` is served by `tidal.service.http.hot_route` in front of the
framework: the route here documents it in the OpenAPI schema (and would serve it the
same way).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tidal.service.auth import Caller, bearer_token, require_role
from tidal.service.handling.accept import accept_message
from tidal.service.handling.classification import classify_only
from tidal.service.http.problems import problem_responses
from tidal.service.http.routes.deps import ServicesDep, json_body_and_bearer, json_response
from tidal.service.http.routes.schemas import ClassificationOut, ClassifyIn, MessageIn, MessageOut
from tidal.service.running.services import Services
from tidal.service.tokens import Role
from tidal.service.views import classification_view

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
    services: Services = request.app.state.services
    answer = await accept_message(services, bearer_token(request), request.body)
    return Response(answer, media_type="application/json")


@router.post(
    "/v1/classify",
    response_model=ClassificationOut,
    summary="Classify one message, without any state change",
    responses=problem_responses(400, 401, 403, 413, 422),
)
async def post_classify(body: ClassifyIn, caller: Caller, services: ServicesDep) -> Response:
    require_role(caller, Role.SERVICE)
    result = await classify_only(services, body.text, body.direction)
    return json_response(classification_view(result))
