"""Shared dependencies and helpers of the routers."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from tidal.service.running.services import Services


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def json_response(body: Any, status_code: int = 200) -> Response:
    """A JSON response from already rendered data (skips re-validation)."""
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_json_body(model: type[ModelT], raw: bytes) -> ModelT:
    """Validate a JSON body with pydantic's own parser; errors as FastAPI reports them.

    JSON that pydantic's parser refuses but Python's reads (a lone surrogate escape such
    as `"a\\ud800"`, `NaN`) is validated once more as Python data, so the error names
    the field at fault, as it does for the routes FastAPI parses with Python's reader.
    """
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(e["type"] == "json_invalid" for e in errors):
            errors = _errors_as_python_data(model, raw) or errors
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


def _errors_as_python_data(model: type[BaseModel], raw: bytes) -> list[Any] | None:
    """The field errors of a body Python's JSON reader can read, or None."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        # JSONDecodeError, UnicodeDecodeError for bytes not UTF-8, and arrays or objects
        # nested deeper than Python's reader recurses: refused as malformed JSON.
        return None
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return list(exc.errors(include_url=False))
    return None  # valid as Python data only: still refused, as the JSON it is not


def json_body_and_bearer(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI for a route that parses its body itself: the JSON body and bearer auth."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        },
        "security": [{"HTTPBearer": []}],
    }
