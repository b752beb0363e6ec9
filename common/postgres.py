"""Postgres adapter: connections, schema, job-run bookkeeping."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib.resources import files
from typing import Any

import psycopg
from psycopg.rows import dict_row, tuple_row

from common import metrics


@dataclass(frozen=True)
class RowCounts:
    """The rows a job run handled, in the numbers every job reports: into its `job_runs` counts (the
    scheduler's history reads them) and into the `helio_job_rows` metric."""

    read: int
    accepted: int  # valid, whether or not they changed anything
    written: int  # inserted, updated or removed
    rejected: int  # kept aside with a reason


def connect(dsn: str, *, timeout_s: float | None = None) -> psycopg.Connection[dict[str, Any]]:
    """A connection whose rows are dicts; `timeout_s` bounds connecting (a request path's budget)."""
    if timeout_s is None:
        return psycopg.connect(dsn, row_factory=dict_row)
    return psycopg.connect(dsn, row_factory=dict_row, connect_timeout=max(1, round(timeout_s)))


def fetch_one(
    conn: psycopg.Connection[Any], query: str, params: Sequence[Any] = ()
) -> tuple[Any, ...] | None:
    """One row as a tuple, whatever row factory `conn` was opened with (jobs use dicts, the API tuples)."""
    with conn.cursor(row_factory=tuple_row) as cur:
        return cur.execute(query, params).fetchone()


def migrate(conn: psycopg.Connection[Any], *schemas: str) -> None:
    """Apply common/sql/schema.sql (catalog, rejects, job runs), then each named file of common/sql/.
    Every file is idempotent, so this runs at every start."""
    with conn.transaction():
        # One migration at a time: concurrent jobs starting together would race on CREATE TABLE.
        conn.execute("SELECT pg_advisory_xact_lock(4242)")
        for name in ("schema.sql", *schemas):
            conn.execute(files("common").joinpath("sql", name).read_text(encoding="utf-8"))


def start_job_run(conn: psycopg.Connection[Any], *, job: str, submission_id: str | None = None) -> int:
    """A new `running` row in job_runs; `submission_id` is `Settings.job_submission_id` (set by the
    scheduler when it submits the run through the Ray Job Submission API)."""
    with conn.transaction():
        row = fetch_one(
            conn,
            "INSERT INTO job_runs (job, submission_id) VALUES (%s, %s) RETURNING id",
            (job, submission_id),
        )
    assert row is not None
    return int(row[0])


def finish_job_run(
    conn: psycopg.Connection[Any],
    *,
    run_id: int,
    status: str,
    counts: dict[str, Any],
    rows: RowCounts | None = None,
    error: str | None = None,
) -> None:
    """Close a run with its job-specific `counts` and, when given, the common `rows`."""
    if rows is not None:
        counts = {**counts, **asdict(rows)}
    with conn.transaction():
        job = fetch_one(
            conn,
            # clock_timestamp(): now() is the start of the transaction a job's body may have held open
            "UPDATE job_runs SET finished_at = clock_timestamp(), status = %s, counts = %s, error = %s "
            "WHERE id = %s RETURNING job",
            (status, json.dumps(counts), error, run_id),
        )
    if rows is not None and job is not None:
        metrics.count_job_rows(job[0], **asdict(rows))
