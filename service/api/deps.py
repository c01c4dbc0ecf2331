"""Shared dependencies and helpers of the routers."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from service.services import Services


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def json_response(body: Any, status_code: int = 200) -> Response:
    """A JSON response from already rendered data (skips re-validation)."""
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_json_body(model: type[ModelT], raw: bytes) -> ModelT:
    """Validate a JSON body with pydantic's own parser; errors as FastAPI reports them."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


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
