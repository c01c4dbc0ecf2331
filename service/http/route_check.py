"""404, 405 and 415 for the API's paths, answered before the desk's files can answer.

The desk is mounted at `/`, so without this every path the API does not serve would
reach the desk's static files: a GET on a POST-only path was a 404, any other method on
an API path a 405 with the files' `Allow: GET, HEAD`. Here a request for an API path
with a method that path does not take is a 405 problem whose `Allow` lists every method
the path takes, and an unknown path under `/v1/` is a 404 problem whatever the method.
The paths and methods are those of the OpenAPI document, so `Allow` and the document
always agree. A body sent to an operation that takes one must be JSON
(`application/json` or a `+json` type): anything else is a 415 problem, as on
`POST /v1/messages` (`tidal.service.http.hot_route`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from tidal.service.http.problems import Problem, problem_response

API_PREFIX = "/v1/"


@dataclass(frozen=True, slots=True)
class _PathMethods:
    pattern: re.Pattern[str]
    methods: frozenset[str]
    #: the methods whose operation takes a request body
    with_body: frozenset[str]


_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})


def _table(paths: Mapping[str, Mapping[str, Any]]) -> list[_PathMethods]:
    """Each path template of the OpenAPI document with its methods."""
    return [
        _PathMethods(
            compile_path(template)[0],
            frozenset(m.upper() for m in operations if m.upper() in _METHODS),
            frozenset(m.upper() for m, op in operations.items() if "requestBody" in op),
        )
        for template, operations in paths.items()
    ]


def _matching(table: Sequence[_PathMethods], path: str) -> list[_PathMethods]:
    return [entry for entry in table if entry.pattern.match(path)]


def is_json(content_type: str | None) -> bool:
    """Whether a Content-Type names JSON (`application/json`, `application/x+json`)."""
    if content_type is None:
        return False
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def unsupported_media_type() -> Problem:
    return Problem(
        "unsupported-media-type", "send the body as JSON (Content-Type: application/json)"
    )


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def content_type_of(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return str(value.decode("latin-1"))
    return None


class RouteCheck:
    """ASGI middleware answering 404 and 405 problems for API paths (see the module)."""

    def __init__(
        self, app: ASGIApp, *, openapi_paths: Callable[[], Mapping[str, Mapping[str, Any]]]
    ) -> None:
        self.app = app
        self._openapi_paths = openapi_paths
        self._table: list[_PathMethods] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._table is None:  # routes are all added once the app serves
            self._table = _table(self._openapi_paths())
        path: str = scope["path"]
        method: str = scope["method"]
        entries = _matching(self._table, path)
        problem: Problem | None = None
        if not entries:
            if path.startswith(API_PREFIX):
                problem = Problem("not-found", f"no API endpoint {path}")
        elif not any(method in e.methods for e in entries):
            allow = ", ".join(sorted(set().union(*(e.methods for e in entries))))
            problem = Problem(
                "method-not-allowed",
                f"{path} takes {allow}",
                headers={"Allow": allow},
            )
        elif (
            any(method in e.with_body for e in entries)
            and _has_body(scope)
            and not is_json(content_type_of(scope))
        ):
            problem = unsupported_media_type()
        if problem is None:
            await self.app(scope, receive, send)
            return
        await problem_response(problem, path)(scope, receive, send)
