"""Postgres adapter: connections, schema, job-run bookkeeping."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import psycopg
from psycopg.rows import dict_row


def connect(dsn: str) -> psycopg.Connection[dict[str, Any]]:
    return psycopg.connect(dsn, row_factory=dict_row)


def migrate(conn: psycopg.Connection[Any], *schemas: str) -> None:
    """Apply common/sql/schema.sql (catalog, rejects, job runs), then each named file of common/sql/.
    Every file is idempotent, so this runs at every start."""
    with conn.transaction():
        # One migration at a time: concurrent jobs starting together would race on CREATE TABLE.
        conn.execute("SELECT pg_advisory_xact_lock(4242)")
        for name in ("schema.sql", *schemas):
            conn.execute(files("common").joinpath("sql", name).read_text(encoding="utf-8"))


def start_run(conn: psycopg.Connection[Any], *, job: str, submission_id: str | None = None) -> int:
    """A new `running` row in job_runs; `submission_id` is `Settings.job_submission_id` (set by the
    scheduler when it submits the run through the Ray Job Submission API)."""
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO job_runs (job, submission_id) VALUES (%s, %s) RETURNING id", (job, submission_id)
        ).fetchone()
    assert row is not None
    return int(row["id"] if isinstance(row, dict) else row[0])


def finish_run(
    conn: psycopg.Connection[Any],
    *,
    run_id: int,
    status: str,
    counts: dict[str, Any],
    error: str | None = None,
) -> None:
    with conn.transaction():
        conn.execute(
            "UPDATE job_runs SET finished_at = now(), status = %s, counts = %s, error = %s WHERE id = %s",
            (status, json.dumps(counts), error, run_id),
        )
