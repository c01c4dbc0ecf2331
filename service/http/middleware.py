"""ASGI middleware: request metrics, the access log, and the request body limit.

Plain ASGI (no BaseHTTPMiddleware) to keep the per-request cost small.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidal.service.http.problems import Problem, problem_response
from tidal.service.metrics import Metrics

access_log = logging.getLogger("tidal.access")
log = logging.getLogger("tidal.app")


class BodyTooLarge(HTTPException):
    """Raised while reading a body past the limit (FastAPI re-raises HTTP exceptions)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request bodies are limited to {limit} bytes")


class ServiceMiddleware:
    """Counts and times requests by route, logs them (no headers: no secrets), and
    refuses bodies over `max_body_bytes` with a 413 problem before they are parsed."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        max_body_bytes: int,
        access_log: bool = True,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.log_access = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False
        limit = self.max_body_bytes

        declared = content_length(scope)
        if declared is not None and declared > limit:
            await self._too_large(scope, receive, send, limit)
            self._observe(scope, 413, started)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if response_started:
                raise
            status = 413
            await problem_response(too_large_problem(limit), scope["path"])(scope, receive, send)
        except Exception as exc:
            # answered here rather than by Starlette's outermost handler, which sends the
            # 500 but then re-raises, so the server drops the connection with it (and the
            # client's next request on that keep-alive connection fails)
            if response_started:
                raise
            status = 500
            log.error("unhandled error", exc_info=exc, extra={"path": scope["path"]})
            await problem_response(internal_problem(), scope["path"])(scope, receive, send)
        finally:
            self._observe(scope, status, started)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        await problem_response(too_large_problem(limit), scope["path"])(scope, receive, send)

    def _observe(self, scope: Scope, status: int, started: float) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        observe_request(
            self.metrics,
            self.log_access,
            scope["method"],
            scope["path"],
            template,
            status,
            started,
        )


def observe_request(
    metrics: Metrics,
    log_access: bool,
    method: str,
    path: str,
    template: str,
    status: int,
    started: float,
) -> None:
    """Count and time one answered request and write its access-log line (no headers,
    so no secrets). `template` is the route's path template, the metrics' label."""
    elapsed = time.perf_counter() - started
    metrics.requests.labels(method, template, str(status)).inc()
    metrics.latency.labels(method, template).observe(elapsed)
    if log_access:
        access_log.info(
            "request",
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(elapsed * 1000, 3),
            },
        )


def content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def internal_problem() -> Problem:
    """What an unexpected error answers (the details go to the service log only)."""
    return Problem("internal", "unexpected error; see the service log")


def too_large_problem(limit: int) -> Problem:
    return Problem("payload-too-large", f"request bodies are limited to {limit} bytes")


async def read_body(receive: Receive, limit: int) -> bytes:
    """The request body, refused with a 413 problem once it grows past `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large_problem(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
