"""Liveness and Prometheus metrics (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from tidal.service.http.routes.deps import ServicesDep, json_response
from tidal.service.http.routes.schemas import HealthOut

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    response_model=HealthOut,
    summary="Liveness",
    responses={503: {"model": HealthOut, "description": "Writes are failing."}},
)
async def healthz(services: ServicesDep) -> Response:
    failing = services.runtime.failure is not None
    return json_response(
        {
            "status": "failing" if failing else "ok",
            "clock": services.settings.clock,
            "now": services.clock.now().isoformat(),
        },
        status_code=503 if failing else 200,
    )


METRICS_MEDIA_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
async def metrics(services: ServicesDep) -> Response:
    return Response(services.metrics.render(), media_type=METRICS_MEDIA_TYPE)
