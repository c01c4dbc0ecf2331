"""The OpenAPI document's error responses, made to say what the service sends.

FastAPI documents a 422 `application/json` validation error of its own on every
operation with parameters; Tidal sends every error as `application/problem+json`. Here
each operation lists every error status it can answer, each as a problem document:

- every operation: 500 (an unexpected error);
- every `/v1` operation: 401, 403 (but `GET /v1/me`, which any token may call) and
  503 (`unavailable`, `standby`);
- with parameters or a body: 422 (`validation`);
- with a body: 400 (`malformed-json`), 413 (`payload-too-large`) and 415
  (`unsupported-media-type`);
- with a path parameter: 404.
"""

from __future__ import annotations

from typing import Any

from tidal.service.http.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES, problem_type

PROBLEM_REF = "#/components/schemas/ProblemDetail"
#: FastAPI's own validation error schemas, which Tidal never sends
_FRAMEWORK_SCHEMAS = ("HTTPValidationError", "ValidationError")
_ANY_TOKEN = {("get", "/v1/me")}


def problem_response_doc(status: int) -> dict[str, Any]:
    types = [problem_type(slug) for slug, (s, _t) in PROBLEM_TYPES.items() if s == status]
    named = ", ".join(types) if types else "an engine error type"
    return {
        "description": f"Problem document (type: {named}).",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
    }


def _error_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    statuses = {500}
    parameters = operation.get("parameters", [])
    body = "requestBody" in operation
    if path.startswith("/v1/"):
        statuses |= {401, 503}
        if (method, path) not in _ANY_TOKEN:
            statuses.add(403)
    if parameters or body:
        statuses.add(422)
    if body:
        statuses |= {400, 413, 415}
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    return statuses


def document_errors(schema: dict[str, Any]) -> None:
    """Rewrite `schema` in place: every error an operation can answer, as a problem."""
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for code in _error_statuses(path, method, operation):
                responses.setdefault(str(code), problem_response_doc(code))
            for status, response in responses.items():
                code = int(status)
                if code < 400 or _has_own_schema(path, code):
                    continue
                response["content"] = problem_response_doc(code)["content"]
    components = schema.get("components", {}).get("schemas", {})
    for name in _FRAMEWORK_SCHEMAS:
        components.pop(name, None)


def _has_own_schema(path: str, status: int) -> bool:
    # /healthz answers 503 with its usual body (status `failing`), not a problem
    return path == "/healthz" and status == 503
