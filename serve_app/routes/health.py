"""GET /health: the service and each dependency (`services.health.HealthCheck`); 503 when one is down."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from serve_app.routes import service_on_state
from services.health import HealthCheck, HealthReport

HealthCheckDep = Annotated[HealthCheck, Depends(service_on_state("health_check", "health check"))]
routes = APIRouter()


@routes.get(
    "/health",
    response_model=HealthReport,
    summary="Status of the service and each dependency",
    responses={503: {"model": HealthReport, "description": "A dependency is down"}},
    tags=["operations"],
)
async def health(health_check: HealthCheckDep) -> JSONResponse:
    report = await health_check.run()
    return JSONResponse(report.model_dump(), status_code=200 if report.status == "ok" else 503)
