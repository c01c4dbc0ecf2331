"""Errors as `application/problem+json` (RFC 9457), with stable `type` URIs.

Every error the API returns is a `Problem`. Its `type` is
`https://tidal.dev/problems/<slug>`; the slugs below are part of the API and never
change meaning. Engine errors keep their own stable code as the slug
(`outbound_without_agent` -> `https://tidal.dev/problems/outbound-without-agent`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

PROBLEM_BASE = "https://tidal.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

#: slug -> (HTTP status, title). The documented problem types of the API.
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "malformed-json": (400, "The request body is not valid JSON"),
    "unauthorized": (401, "Missing or invalid bearer token"),
    "forbidden": (403, "This token may not do that"),
    "not-found": (404, "No such resource"),
    "method-not-allowed": (405, "Method not allowed"),
    "clock-not-manual": (409, "The service runs on the wall clock"),
    "clock-backwards": (409, "The clock cannot go back"),
    "payload-too-large": (413, "The request body is too large"),
    "unsupported-media-type": (415, "The request body must be JSON"),
    "validation": (422, "The request is not valid"),
    "rules-invalid": (422, "The rule files are not valid; the old rules stay in use"),
    "model-refused": (422, "A model cannot be used; the old rules and models stay in use"),
    "internal": (500, "Internal error"),
    "unavailable": (503, "The service cannot accept changes"),
    "standby": (503, "This service is a standby: another one writes the database"),
}

#: Engine error codes and the HTTP status they map to (default 422).
ENGINE_ERROR_STATUS: dict[str, int] = {
    "unknown_conversation": 404,
    "unknown_agent": 404,
    "conversation_closed": 409,
    "invalid_state": 409,
}


def problem_type(slug: str) -> str:
    """The full `type` URI for a slug."""
    return PROBLEM_BASE + slug


class ProblemDetail(BaseModel):
    """An RFC 9457 problem document, as every error response of the API."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="Stable URI naming the kind of problem.")
    title: str = Field(description="Short human-readable summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(default=None, description="What went wrong in this case.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[Any] | None = Field(
        default=None,
        description="Every individual error: for validation `{loc, msg, type}` objects; "
        "for invalid rule files `path:line: [code] message` strings.",
    )
    code: str | None = Field(default=None, description="The engine's stable error code.")


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        slug: str,
        detail: str | None = None,
        *,
        status: int | None = None,
        title: str | None = None,
        errors: Sequence[Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        known_status, known_title = PROBLEM_TYPES.get(slug, (422, slug.replace("-", " ")))
        self.slug = slug
        self.status = status if status is not None else known_status
        self.title = title if title is not None else known_title
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})
        super().__init__(detail or self.title)

    def body(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": problem_type(self.slug),
            "title": self.title,
            "status": self.status,
        }
        if self.detail is not None:
            doc["detail"] = self.detail
        if instance is not None:
            doc["instance"] = instance
        if self.errors is not None:
            doc["errors"] = self.errors
        doc.update(self.extra)
        return doc


def problem_response(problem: Problem, instance: str | None = None) -> Response:
    """The HTTP response for a problem."""
    headers = dict(problem.headers)
    if problem.status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="tidal"')
    body = problem.body(instance)
    try:
        content = orjson.dumps(body)
    except TypeError:  # e.g. a lone surrogate from the request, echoed in a field name
        content = orjson.dumps(encodable(body))
    return Response(
        content=content,
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def encodable(value: Any) -> Any:
    """`value` with every string made valid UTF-8 (lone surrogates as `\\udXXX`) and
    anything else JSON cannot hold as its text."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, Mapping):
        return {encodable(str(k)): encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encodable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return str(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return encodable(str(value))


async def problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc, request.url.path)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting the problem statuses of an endpoint."""
    described: dict[int, list[str]] = {}
    for slug, (status, _title) in PROBLEM_TYPES.items():
        described.setdefault(status, []).append(problem_type(slug))
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        types = ", ".join(described.get(status, [])) or "an engine error type"
        out[status] = {
            "description": f"Problem document (type: {types}).",
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}
            },
        }
    return out
