"""The one job runner against the real Postgres: what a run records when it succeeds, fails, runs past its
time limit, or loses its connection."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from common import postgres
from common.resources import Resources
from common.settings import Settings
from ray_jobs.runner import JobTimedOut, job_run


def job_runs(settings: Settings) -> list[dict[str, Any]]:
    with postgres.connect(settings.database_url or "") as conn:
        return conn.execute(
            "SELECT job, status, counts, error, submission_id FROM job_runs ORDER BY id"
        ).fetchall()


def test_a_run_records_what_it_reported_with_its_submission_id(fresh_settings: Settings) -> None:
    settings = fresh_settings.model_copy(update={"job_submission_id": "sample-1-abc"})
    with job_run(Resources(settings), "sample") as run:
        run.report({"files": 2}, postgres.RowCounts(read=5, accepted=4, written=3, rejected=1))
    [row] = job_runs(settings)
    assert (row["job"], row["status"], row["submission_id"]) == ("sample", "succeeded", "sample-1-abc")
    assert row["counts"] == {"files": 2, "read": 5, "accepted": 4, "written": 3, "rejected": 1}


def test_a_run_inside_one_long_transaction_records_how_long_it_took(fresh_settings: Settings) -> None:
    """A body that reads first and writes last holds one transaction open throughout (the embedding
    job does): the run's end is the clock's, not that transaction's start."""
    with job_run(Resources(fresh_settings), "sample") as run:
        run.conn.execute("SELECT 1")
        time.sleep(0.3)
        run.report({}, postgres.RowCounts(read=0, accepted=0, written=0, rejected=0))
    with postgres.connect(fresh_settings.database_url or "") as conn:
        took = "SELECT extract(epoch FROM finished_at - started_at) AS s FROM job_runs"
        row = conn.execute(took).fetchone()
    assert row is not None and float(row["s"]) >= 0.3


def test_a_failing_body_is_rolled_back_and_recorded_with_its_error(fresh_settings: Settings) -> None:
    with pytest.raises(ValueError, match="bad feed"), job_run(Resources(fresh_settings), "sample") as run:
        run.conn.execute("CREATE TABLE half_written (x int)")
        raise ValueError("bad feed")
    [row] = job_runs(fresh_settings)
    assert (row["status"], row["error"]) == ("failed", "ValueError('bad feed')")
    with postgres.connect(fresh_settings.database_url or "") as conn:
        assert conn.execute("SELECT to_regclass('half_written') AS t").fetchone() == {"t": None}


def test_a_run_past_its_time_limit_stops_itself_as_timed_out(fresh_settings: Settings) -> None:
    settings = fresh_settings.model_copy(update={"job_timeout_s": 0.5})
    started = time.monotonic()
    with pytest.raises(JobTimedOut), job_run(Resources(settings), "stuck"):
        time.sleep(30)
    assert time.monotonic() - started < 5
    [row] = job_runs(settings)
    assert row["status"] == "timed_out" and "time limit of 0.5 s" in row["error"]


def test_a_dropped_connection_still_gets_its_failure_recorded(fresh_settings: Settings) -> None:
    """Postgres restarting under a run: the failure lands on a new connection."""
    with pytest.raises(psycopg.OperationalError), job_run(Resources(fresh_settings), "sample") as run:
        pid = run.conn.info.backend_pid
        with psycopg.connect(fresh_settings.database_url or "", autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        run.conn.execute("SELECT 1")
    [row] = job_runs(fresh_settings)
    assert row["status"] == "failed"
