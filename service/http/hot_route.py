"""`POST /v1/messages` as a plain ASGI app: the hottest route, without the framework.

Every message of a contact center passes through this one route. Through the
framework, its requests crossed about a dozen layers (error and telemetry
middleware, body limits, routing, request and response objects, each wrapping
`send`), which cost as much CPU as classifying the message. Here the request goes
straight from the server to `tidal.service.handling.accept.accept_message`, with the same
behaviour as every other route: the body limit (413 before reading when declared,
while reading otherwise), problem+json errors from the app's own handlers, request
metrics and the access log. The FastAPI route of the same path documents it in the
OpenAPI schema.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from tidal.service.handling.accept import accept_message
from tidal.service.http.middleware import (
    content_length,
    internal_problem,
    observe_request,
    read_body,
    too_large_problem,
)
from tidal.service.http.problems import problem_response
from tidal.service.http.route_check import content_type_of, is_json, unsupported_media_type
from tidal.service.metrics import Metrics
from tidal.service.running.services import Services

PATH = "/v1/messages"
log = logging.getLogger("tidal.app")

#: turns an error raised while answering into its problem response, or None when the
#: error is not an expected one (it is then answered as a 500 problem)
ErrorResponder = Callable[[Request, Exception], Awaitable[Response | None]]

_JSON_HEADERS = [(b"content-type", b"application/json")]


class MessageRoute:
    """Answers `POST /v1/messages` from the ASGI scope, receive and send directly."""

    def __init__(
        self,
        services: Callable[[], Services],
        *,
        metrics: Metrics,
        max_body_bytes: int,
        access_log: bool,
        errors: ErrorResponder,
    ) -> None:
        self._services = services
        self._metrics = metrics
        self._limit = max_body_bytes
        self._log_access = access_log
        self._errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500
        try:
            try:
                answer = await self._answer(scope, receive)
            except ClientDisconnect:
                return  # nobody to answer; whatever was accepted is committed anyway
            except Exception as exc:
                response = await self._error_response(scope, exc)
                status = response.status_code
                await response(scope, receive, send)
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", str(len(answer)).encode()), *_JSON_HEADERS],
                }
            )
            await send({"type": "http.response.body", "body": answer})
            status = 200
        finally:
            observe_request(
                self._metrics, self._log_access, "POST", scope["path"], PATH, status, started
            )

    async def _answer(self, scope: Scope, receive: Receive) -> bytes:
        declared = content_length(scope)
        if declared is not None and declared > self._limit:
            raise too_large_problem(self._limit)
        if not is_json(content_type_of(scope)):
            raise unsupported_media_type()

        async def body() -> bytes:
            return await read_body(receive, self._limit)

        return await accept_message(self._services(), _bearer_token(scope), body)

    async def _error_response(self, scope: Scope, exc: Exception) -> Response:
        request = Request(scope)
        response = await self._errors(request, exc)
        if response is not None:
            return response
        log.error("unhandled error", exc_info=exc, extra={"path": scope["path"]})
        return problem_response(internal_problem(), scope["path"])


def _bearer_token(scope: Scope) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (as `auth.bearer_token`)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None
