"""Admin API: the scheduler's run history and manual job runs, behind a bearer token.

The token is `ADMIN_TOKEN`, compared in constant time; with none configured the admin endpoints answer
503 rather than open. Triggers go to the scheduler actor (`ray_jobs.scheduler`), which keeps one run per
job at a time; the history is read from Postgres.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, SecretStr

from common import postgres, run_history
from common.embedded import RAY_NAMESPACE
from common.run_history import SCHEDULER_ACTOR, ScheduledRun, TriggerOutcome
from kernel.errors import DependencyUnavailable
from serve_app.errors import ErrorBody

TriggerJob = Callable[[str], Awaitable[TriggerOutcome]]


@dataclass
class AdminService:
    token: SecretStr | None
    dsn: Callable[[], str]  # resolved per call: the embedded Postgres may start after the replica
    trigger: TriggerJob
    db_timeout_s: float = 5.0
    # The schema is applied once per replica, on the first read that reaches Postgres (it may start after
    # the replica): migrating takes the global advisory lock, which every read would otherwise queue on.
    _migrated: bool = field(default=False, init=False)

    def runs(self, job: str | None, limit: int) -> list[ScheduledRun]:
        try:
            with psycopg.connect(self.dsn(), connect_timeout=max(1, round(self.db_timeout_s))) as conn:
                if not self._migrated:
                    postgres.migrate(conn, run_history.SCHEMA)
                    self._migrated = True
                return run_history.history(conn, job=job, limit=limit)
        except psycopg.OperationalError as error:
            raise DependencyUnavailable("run history database", type(error).__name__) from None


async def trigger_through_scheduler(job: str) -> TriggerOutcome:
    """Ask the scheduler actor to run `job`; looked up per call, so it may start after the API."""
    import ray

    try:
        handle = ray.get_actor(SCHEDULER_ACTOR, namespace=RAY_NAMESPACE)
    except ValueError:
        raise DependencyUnavailable("scheduler", "not running (python -m ray_jobs.scheduler start)") from None
    outcome: TriggerOutcome = await handle.trigger.remote(job)
    return outcome


class RunsResponse(BaseModel):
    runs: list[ScheduledRun]


_bearer = HTTPBearer(auto_error=False, description="ADMIN_TOKEN")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def _admin(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> AdminService:
    service: AdminService | None = request.app.state.admin
    if service is None or service.token is None:
        raise DependencyUnavailable("admin API", "no ADMIN_TOKEN configured")
    if credentials is None:
        raise HTTPException(401, "a bearer token is required", headers=_CHALLENGE)
    expected = service.token.get_secret_value().encode()
    if not hmac.compare_digest(credentials.credentials.encode(), expected):
        raise HTTPException(401, "invalid token", headers=_CHALLENGE)
    return service


AdminDep = Annotated[AdminService, Depends(_admin)]
_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong bearer token"},
    503: {"model": ErrorBody, "description": "No admin token configured, or a dependency is down"},
}

routes = APIRouter(prefix="/admin", tags=["admin"])


@routes.get(
    "/runs",
    response_model=RunsResponse,
    summary="The scheduler's runs, newest first",
    description="Each run with its trigger, attempt, status, Ray submission id, row counts and error.",
    responses={422: {"model": ErrorBody}, **_AUTH_ERRORS},
)
async def list_runs(
    admin: AdminDep,
    job: Annotated[str | None, Query(max_length=100, description="Only this job's runs.")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="How many runs.")] = 50,
) -> RunsResponse:
    return RunsResponse(runs=await asyncio.to_thread(admin.runs, job, limit))


_TRIGGER_STATUS = {"submitted": 202, "already_running": 409, "idle": 409, "unknown_job": 404}


@routes.post(
    "/jobs/{name}/run",
    response_model=TriggerOutcome,
    status_code=202,
    summary="Run a job now",
    description=(
        "Submits the job through the scheduler (a Ray job: logs in the dashboard). 409 when a run of it is "
        "in progress (`run_id` names it) or the job is idle for want of a setting; 404 for an unknown job."
    ),
    responses={404: {"model": ErrorBody}, 409: {"model": TriggerOutcome}, **_AUTH_ERRORS},
)
async def run_job(
    admin: AdminDep, name: Annotated[str, Path(max_length=100, description="Job name, as in `list`.")]
) -> JSONResponse:
    try:
        outcome = await admin.trigger(name)
    except DependencyUnavailable:
        raise
    except Exception as error:  # the actor is gone, or Ray is
        raise DependencyUnavailable("scheduler", type(error).__name__) from None
    if outcome.status == "unknown_job":
        raise HTTPException(404, outcome.message)
    if outcome.status == "submit_failed":
        raise DependencyUnavailable("Ray job submission", outcome.message)
    return JSONResponse(outcome.model_dump(), status_code=_TRIGGER_STATUS[outcome.status])
