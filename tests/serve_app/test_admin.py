"""The admin API in-process: bearer token, run history and manual triggers over a real scheduler (with the
subprocess job backend) and the real Postgres."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from functools import partial

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from common import postgres, run_history
from common.job_submission import LocalProcessJobs
from common.run_history import TriggerOutcome
from common.settings import Settings
from ray_jobs.scheduler import JobScheduler
from ray_jobs.schedules import JobSchedule, SchedulerConfig
from serve_app.errors import install_error_handlers
from serve_app.routes.admin import AdminService
from serve_app.routes.admin import routes as admin_routes

TOKEN = "admin-token-for-tests-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JOB = f"{sys.executable} -m tests.ray_jobs.scheduled_job"


def admin_app(service: AdminService | None) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.admin = service
    app.include_router(admin_routes)
    return app


@pytest.fixture
def scheduler(fresh_settings: Settings) -> Iterator[JobScheduler]:
    config = SchedulerConfig(
        jobs={
            "quick": JobSchedule(cron="0 2 * * *", entrypoint=JOB),
            "slow": JobSchedule(cron="0 2 * * *", entrypoint=f"{JOB} --sleep 3"),
            "erp": JobSchedule(cron="*/30 * * * *", entrypoint=JOB, requires=["erp_url"]),
        },
        poll_s=0.1,
    )
    scheduler = JobScheduler(config, fresh_settings, LocalProcessJobs())
    scheduler.start()
    yield scheduler
    scheduler.shutdown()


@pytest.fixture
def client(scheduler: JobScheduler, fresh_settings: Settings) -> TestClient:
    async def trigger(job: str) -> TriggerOutcome:
        return await asyncio.to_thread(scheduler.trigger, job)

    service = AdminService(
        token=SecretStr(TOKEN), dsn=lambda: fresh_settings.database_url or "", trigger=trigger
    )
    return TestClient(admin_app(service))


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "a bearer token is required"),
        ({"Authorization": "Bearer wrong"}, "invalid token"),
        ({"Authorization": f"Bearer {TOKEN}x"}, "invalid token"),
        ({"Authorization": f"Basic {TOKEN}"}, "a bearer token is required"),
    ],
)
@pytest.mark.parametrize(("method", "path"), [("GET", "/admin/runs"), ("POST", "/admin/jobs/quick/run")])
def test_admin_endpoints_need_the_token(
    client: TestClient, method: str, path: str, headers: dict[str, str], detail: str
) -> None:
    response = client.request(method, path, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_without_a_configured_token_the_admin_api_is_closed() -> None:
    service = AdminService(token=None, dsn=lambda: "unused", trigger=partial(pytest.fail, "no trigger"))
    for client in (TestClient(admin_app(service)), TestClient(admin_app(None))):
        response = client.get("/admin/runs", headers=AUTH)
        assert response.status_code == 503
        assert "no ADMIN_TOKEN configured" in response.json()["detail"]


def test_trigger_then_history(client: TestClient) -> None:
    started = client.post("/admin/jobs/quick/run", headers=AUTH)
    assert started.status_code == 202
    run_id = started.json()["run_id"]
    deadline = time.monotonic() + 60
    while (run := client.get("/admin/runs", headers=AUTH).json()["runs"][0])["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert run["id"] == run_id and run["job"] == "quick" and run["trigger"] == "manual"
    assert (run["status"], run["read"], run["written"], run["rejected"]) == ("succeeded", 10, 7, 3)
    assert run["submission_id"].startswith(f"quick-{run_id}-")


def test_a_second_trigger_while_running_is_a_409_naming_the_run(client: TestClient) -> None:
    first = client.post("/admin/jobs/slow/run", headers=AUTH).json()
    second = client.post("/admin/jobs/slow/run", headers=AUTH)
    assert second.status_code == 409
    assert second.json()["status"] == "already_running" and second.json()["run_id"] == first["run_id"]
    statuses = [run["status"] for run in client.get("/admin/runs?job=slow", headers=AUTH).json()["runs"]]
    assert statuses == ["skipped", "running"]


@pytest.mark.parametrize(
    ("path", "status", "mentions"),
    [
        ("/admin/jobs/nope/run", 404, "no job named 'nope'"),
        ("/admin/jobs/erp/run", 409, "ERP_URL"),
    ],
)
def test_unknown_and_idle_jobs(client: TestClient, path: str, status: int, mentions: str) -> None:
    response = client.post(path, headers=AUTH)
    assert response.status_code == status
    assert mentions in (response.json().get("detail") or response.json().get("message"))


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "job=" + "j" * 101])
def test_bad_history_queries_are_422(client: TestClient, query: str) -> None:
    response = client.get(f"/admin/runs?{query}", headers=AUTH)
    assert response.status_code == 422 and response.json()["detail"]


def test_database_down_is_a_503() -> None:
    service = AdminService(
        token=SecretStr(TOKEN),
        dsn=lambda: "postgresql://nobody@127.0.0.1:9/none",
        trigger=partial(pytest.fail, "no trigger"),
        db_timeout_s=1,
    )
    response = TestClient(admin_app(service)).get("/admin/runs", headers=AUTH)
    assert response.status_code == 503
    assert response.json() == {"detail": "run history database unavailable: OperationalError"}


def test_scheduler_down_is_a_503() -> None:
    async def gone(job: str) -> TriggerOutcome:
        raise ConnectionError("actor died")

    service = AdminService(token=SecretStr(TOKEN), dsn=lambda: "unused", trigger=gone)
    response = TestClient(admin_app(service)).post("/admin/jobs/quick/run", headers=AUTH)
    assert response.status_code == 503
    assert response.json() == {"detail": "scheduler unavailable: ConnectionError"}


def test_the_schema_is_migrated_once_not_on_every_read(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations: list[tuple[str, ...]] = []
    real_migrate = postgres.migrate
    monkeypatch.setattr(
        postgres, "migrate", lambda conn, *schemas: migrations.append(schemas) or real_migrate(conn, *schemas)
    )
    for _ in range(3):
        assert client.get("/admin/runs", headers=AUTH).status_code == 200
    assert migrations == [(run_history.SCHEMA,)]


@pytest.mark.parametrize("token", ["short", "x" * 31])
def test_a_short_admin_token_is_refused_at_start(token: str) -> None:
    with pytest.raises(ValidationError, match="ADMIN_TOKEN must be at least 32 characters"):
        Settings(admin_token=SecretStr(token))
