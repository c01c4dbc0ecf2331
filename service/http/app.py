"""The app factory: `create_app(settings)` builds the FastAPI app.

Nothing is opened at import or construction time: the lifespan asks the writer election
(`tidal.service.replication.takeover`) to make this service the database's writer, now or
once the current writer stops; becoming the writer restores the engine and starts what
runs it (`tidal.service.running.lifecycle`), and the lifespan's end stops it again in
order. Until then the app is a replica (`tidal.service.replication.forwarding`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from tidal.engine.core.errors import EngineError
from tidal.service.config import Settings
from tidal.service.http.api_docs import add_api_docs
from tidal.service.http.hot_route import PATH as HOT_PATH
from tidal.service.http.hot_route import MessageRoute
from tidal.service.http.middleware import ServiceMiddleware, observe_request
from tidal.service.http.problems import (
    ENGINE_ERROR_STATUS,
    Problem,
    ProblemDetail,
    problem_handler,
    problem_response,
)
from tidal.service.http.route_check import RouteCheck
from tidal.service.http.routes import (
    admin,
    agents,
    conversations,
    events,
    messages,
    operations,
    queue,
)
from tidal.service.http.routes.deps import json_response
from tidal.service.http.routes.openapi import document_errors
from tidal.service.http.routes.operations import METRICS_MEDIA_TYPE
from tidal.service.http.routes.schemas import MessageIn
from tidal.service.metrics import Metrics
from tidal.service.persistence.faults import is_unavailable
from tidal.service.replication.forwarding import Forwarder
from tidal.service.replication.takeover import STANDBY_POLL_SECONDS, WriterElection
from tidal.service.running.lifecycle import Running, activate, deactivate
from tidal.service.running.rules import ActiveRules
from tidal.service.running.write_faults import unavailable

log = logging.getLogger("tidal.app")
DESK_DIR = Path(__file__).parents[1] / "desk"

_STATUS_SLUGS = {
    400: "malformed-json",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "clock-not-manual",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


async def _validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    if any(e["type"] == "json_invalid" for e in errors):
        problem = Problem("malformed-json", "the body could not be parsed as JSON", errors=errors)
    else:
        problem = Problem("validation", f"{len(errors)} invalid field(s)", errors=errors)
    return problem_response(problem, request.url.path)


async def _http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    slug = _STATUS_SLUGS.get(exc.status_code, "validation" if exc.status_code < 500 else "internal")
    if exc.status_code == 400 and "pars" not in str(exc.detail):
        slug = "validation"
    problem = Problem(slug, str(exc.detail), status=exc.status_code, headers=exc.headers)
    return problem_response(problem, request.url.path)


async def _engine_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EngineError)
    problem = Problem(
        exc.code.replace("_", "-"),
        exc.message,
        status=ENGINE_ERROR_STATUS.get(exc.code, 422),
        title=exc.code.replace("_", " "),
        extra={"code": exc.code},
    )
    return problem_response(problem, request.url.path)


async def _internal_handler(request: Request, exc: Exception) -> Response:
    if is_unavailable(exc):  # a read while the database is unreachable
        return problem_response(unavailable(), request.url.path)
    log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    return problem_response(
        Problem("internal", "unexpected error; see the service log"), request.url.path
    )


def create_app(
    settings: Settings, *, rules: ActiveRules | None = None, access_log: bool = True
) -> TidalApp:
    """The Tidal HTTP service for `settings` (nothing starts until the lifespan runs).

    `rules` may be passed when already loaded (validated by the caller); otherwise the
    lifespan loads them from `settings.rules_dir` and `settings.models_dir`.
    """
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assert isinstance(app, TidalApp)

        async def become_writer() -> None:
            running = await activate(settings, metrics, rules)
            app.state.services = running.services
            app.running = running

        election = WriterElection(settings, metrics, become_writer)
        await election.enter()
        app.forwarder = election.forwarder
        try:
            yield
        finally:
            await election.stop_taking_over()
            if app.running is not None:
                running, app.running = app.running, None
                await deactivate(running)
            await election.leave()

    app = TidalApp(
        title="Tidal",
        version="1",
        summary="Classify and route contact-center messages.",
        description="Errors are `application/problem+json` (RFC 9457) with a stable `type` "
        "under `https://tidal.dev/problems/`. Every `/v1` endpoint needs "
        "`Authorization: Bearer <token>`.",
        lifespan=lifespan,
        exception_handlers=_all_error_handlers(),
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN: see http.api_docs
        redoc_url=None,
    )
    for module in (messages, conversations, agents, queue, events, admin, operations):
        app.include_router(module.router)
    add_api_docs(app)
    if settings.serve_desk and DESK_DIR.is_dir():
        app.mount("/desk", StaticFiles(directory=DESK_DIR, html=True), name="desk")
        app.mount("/", StaticFiles(directory=DESK_DIR, html=True), name="desk-root")

    _add_problem_schema(app)
    app.add_middleware(RouteCheck, openapi_paths=lambda: app.openapi()["paths"])
    app.add_middleware(
        ServiceMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        access_log=access_log,
    )
    app.standby_metrics = metrics
    app.log_access = access_log
    app.message_route = MessageRoute(
        lambda: app.state.services,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        access_log=access_log,
        errors=expected_error_response,
    )
    return app


class TidalApp(FastAPI):
    """The FastAPI app, with `POST /v1/messages` answered by `tidal.service.http.hot_route`.

    Until it holds the database's writer lock (`running` is None) it is a replica:
    `/v1/*` is forwarded to the writer (`tidal.service.replication.forwarding`), `/healthz`
    answers 200 `{"status": "replica"}` while the writer is healthy and 503 `{"status": "standby"}`
    otherwise, `/metrics` shows its own metrics, and the desk's files are served as ever.
    """

    message_route: MessageRoute | None = None
    running: Running | None = None
    forwarder: Forwarder | None = None
    standby_metrics: Metrics | None = None
    log_access = True

    def begin_stopping(self) -> None:
        """A stop was asked for: start nothing new from now on (see `running.lifecycle`)."""
        if self.running is not None:
            self.running.services.stopping = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and self.running is None
            and await self._as_replica(scope, receive, send)
        ):
            return
        if (
            self.message_route is not None
            and scope["type"] == "http"
            and scope["path"] == HOT_PATH
            and scope["method"] == "POST"
        ):
            await self.message_route(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Forward to the writer, counted and logged under the route `(forwarded)`."""
        assert self.forwarder is not None
        # 499 (as nginx logs it): the client left before any answer started
        started, status = time.perf_counter(), 499

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.forwarder(scope, receive, send_and_note)
        finally:
            if self.standby_metrics is not None:
                observe_request(
                    self.standby_metrics, self.log_access, scope["method"], scope["path"],
                    "(forwarded)", status, started,
                )  # fmt: skip

    async def _as_replica(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer a request this service cannot answer itself; False: it can."""
        path = scope["path"]
        response: Response | None = None
        if path == "/healthz":
            writer = None if self.forwarder is None else await self.forwarder.healthy_writer()
            response = (
                json_response({"status": "replica", "writer": writer})
                if writer is not None
                else json_response({"status": "standby"}, status_code=503)
            )
        elif path == "/metrics" and self.standby_metrics is not None:
            response = Response(self.standby_metrics.render(), media_type=METRICS_MEDIA_TYPE)
        elif path.startswith("/v1/"):
            if self.forwarder is not None:
                await self._forward(scope, receive, send)
                return True
            problem = Problem(
                "standby",
                "this service is starting; retry shortly",
                headers={"Retry-After": str(STANDBY_POLL_SECONDS)},
            )
            response = problem_response(problem, path)
        if response is None:
            return False
        await response(scope, receive, send)
        return True


ErrorHandler = Callable[[Request, Exception], Coroutine[Any, Any, Response]]

#: expected errors and their problem responses (anything else is a 500 problem)
_ERROR_HANDLERS: dict[type[Exception], ErrorHandler] = {
    Problem: problem_handler,
    RequestValidationError: _validation_handler,
    StarletteHTTPException: _http_handler,
    EngineError: _engine_handler,
}


def _all_error_handlers() -> dict[int | type[Exception], ErrorHandler]:
    handlers: dict[int | type[Exception], ErrorHandler] = {
        kind: handler for kind, handler in _ERROR_HANDLERS.items()
    }
    handlers[Exception] = _internal_handler
    return handlers


async def expected_error_response(request: Request, exc: Exception) -> Response | None:
    """The problem response for an expected error (as the app's handlers give it), or
    None for anything else."""
    handler = next((h for kind, h in _ERROR_HANDLERS.items() if isinstance(exc, kind)), None)
    if handler is None and is_unavailable(exc):  # a read while the database is unreachable
        return problem_response(unavailable(), request.url.path)
    return await handler(request, exc) if handler is not None else None


def _add_problem_schema(app: FastAPI) -> None:
    """Make sure `ProblemDetail` is in the OpenAPI components (all errors refer to it)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ProblemDetail", ProblemDetail.model_json_schema())
        # bodies of routes that parse them themselves (see routes.deps.parse_json_body)
        for model in (MessageIn,):
            extra = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in extra.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components.setdefault(model.__name__, extra)
        document_errors(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
