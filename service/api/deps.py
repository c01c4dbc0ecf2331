"""Shared dependencies and helpers of the routers."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from starlette.responses import Response

from service.services import Services


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def json_response(body: Any, status_code: int = 200) -> Response:
    """A JSON response from already rendered data (skips re-validation)."""
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")
