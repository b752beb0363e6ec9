"""The scheduler's run history in Postgres: one row per run (or skipped fire) of a scheduled job.

A run's row counts come from the job's own `job_runs` rows (the job records them with the submission id
it was given), so a job that ran through the scheduler and one run by hand are counted the same way.
Keyword-only, like the other stores; each function is its own transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg.rows import tuple_row
from pydantic import BaseModel, Field

from common.postgres import fetch_one

SCHEMA = "scheduler.sql"  # applied by `postgres.migrate(conn, SCHEMA)`
SCHEDULER_ACTOR = "helio-scheduler"  # the detached actor of `ray_jobs.scheduler`, in the `ysh` namespace

Trigger = Literal["cron", "manual", "retry", "upstream", "watch"]
Status = Literal["running", "succeeded", "failed", "timed_out", "skipped"]


class AlreadyRunning(Exception):
    def __init__(self, job: str, run_id: int) -> None:
        super().__init__(f"{job} is already running (run {run_id})")
        self.job = job
        self.run_id = run_id


class TriggerOutcome(BaseModel):
    """What asking the scheduler to run a job now gave."""

    status: Literal["submitted", "already_running", "unknown_job", "idle", "submit_failed"]
    message: str
    run_id: int | None = Field(default=None, description="The run started, or the one already running.")


class ScheduledRun(BaseModel):
    id: int
    job: str
    trigger: Trigger
    attempt: int
    status: Status
    submission_id: str | None = Field(description="Ray job submission id: its logs are in the dashboard.")
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    read: int | None = Field(description="Rows the job read (null: the job does not report it).")
    written: int | None = Field(description="Rows it inserted, updated or removed.")
    rejected: int | None = Field(description="Rows it kept aside with a reason.")


def start_scheduled_run(
    conn: psycopg.Connection[Any], *, job: str, trigger: Trigger, attempt: int = 1
) -> int:
    """A `running` row for `job`; raises AlreadyRunning (after recording a `skipped` row) when one is."""
    try:
        with conn.transaction():
            row = fetch_one(
                conn,
                "INSERT INTO scheduled_runs (job, trigger, attempt, status) VALUES (%s, %s, %s, 'running') "
                "RETURNING id",
                (job, trigger, attempt),
            )
    except psycopg.errors.UniqueViolation:
        with conn.transaction():
            running = fetch_one(
                conn, "SELECT id FROM scheduled_runs WHERE job = %s AND status = 'running'", (job,)
            )
            running_id = int(running[0]) if running else 0
            conn.execute(
                "INSERT INTO scheduled_runs (job, trigger, attempt, status, finished_at, error) "
                "VALUES (%s, %s, %s, 'skipped', now(), %s)",
                (job, trigger, attempt, f"run {running_id} still running"),
            )
        raise AlreadyRunning(job, running_id) from None
    assert row is not None
    return int(row[0])


def record_skipped(conn: psycopg.Connection[Any], *, job: str, trigger: Trigger, reason: str) -> None:
    """A fire that did not run (its upstream failed for good), kept with its reason."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO scheduled_runs (job, trigger, status, finished_at, error) "
            "VALUES (%s, %s, 'skipped', now(), %s)",
            (job, trigger, reason),
        )


def is_running(conn: psycopg.Connection[Any], *, job: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM scheduled_runs WHERE job = %s AND status = 'running'", (job,)
    ).fetchone()
    return row is not None


def last_successes(conn: psycopg.Connection[Any]) -> dict[str, datetime]:
    """When each job's last successful run ended."""
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            "SELECT job, max(finished_at) FROM scheduled_runs WHERE status = 'succeeded' GROUP BY job"
        ).fetchall()
    return dict(rows)


def set_submission(conn: psycopg.Connection[Any], *, run_id: int, submission_id: str) -> None:
    with conn.transaction():
        conn.execute("UPDATE scheduled_runs SET submission_id = %s WHERE id = %s", (submission_id, run_id))


def finish_scheduled_run(
    conn: psycopg.Connection[Any], *, run_id: int, status: Status, error: str | None = None
) -> None:
    """Close a running row; a row already closed (by another scheduler's reconciliation) stays as it is."""
    with conn.transaction():
        conn.execute(
            "UPDATE scheduled_runs SET status = %s, error = %s, finished_at = clock_timestamp() "
            "WHERE id = %s AND status = 'running'",
            (status, error, run_id),
        )


_HISTORY = """
SELECT r.id, r.job, r.trigger, r.attempt, r.status, r.submission_id, r.started_at, r.finished_at, r.error,
       sum((j.counts ->> 'read')::bigint) AS read,
       sum((j.counts ->> 'written')::bigint) AS written,
       sum((j.counts ->> 'rejected')::bigint) AS rejected
FROM scheduled_runs r
LEFT JOIN job_runs j ON j.submission_id = r.submission_id
WHERE ({where})
GROUP BY r.id
ORDER BY r.id DESC
LIMIT %(limit)s
"""


def history(conn: psycopg.Connection[Any], *, job: str | None = None, limit: int = 50) -> list[ScheduledRun]:
    """Newest first; `job` narrows it to one job."""
    where = "r.job = %(job)s" if job is not None else "true"
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        rows = cur.execute(_HISTORY.format(where=where), {"job": job, "limit": limit}).fetchall()
    return [ScheduledRun.model_validate(row) for row in rows]


def running(conn: psycopg.Connection[Any]) -> list[ScheduledRun]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        rows = cur.execute(_HISTORY.format(where="r.status = 'running'"), {"limit": None}).fetchall()
    return [ScheduledRun.model_validate(row) for row in rows]
