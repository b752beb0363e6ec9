"""The one job runner: every job's run is connected, recorded and closed the same way.

    with job_run(resources, JOB_NAME, tariff_store.SCHEMA) as run:
        ...                                   # run.conn, run.id
        run.report(counts, rows)              # what `job_runs` and the scheduler's history show

It connects (the embedded Postgres when DATABASE_URL is unset), applies the job's schemas once per
process and database, records a `running` row in `job_runs` with the scheduler's submission id, and
closes it: with what the body reported; `failed` with the error when the body raises, after rolling
back the transaction in flight, on a new connection when Postgres dropped the old one; `timed_out`
when the run's time limit passes (JOB_TIMEOUT_S, which the scheduler sets from `schedules.yaml`:
SIGALRM interrupts the body, so a run stuck in Python stops itself before the scheduler stops it).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import psycopg

from common import postgres
from common.resources import Resources


class JobTimedOut(Exception):
    """The run's time limit passed."""


@dataclass
class JobRun:
    job: str
    id: int
    conn: psycopg.Connection[Any]
    status: str = "succeeded"
    counts: dict[str, Any] = field(default_factory=dict)
    rows: postgres.RowCounts | None = None
    error: str | None = None

    def report(
        self,
        counts: dict[str, Any],
        rows: postgres.RowCounts | None = None,
        *,
        status: str = "succeeded",
        error: str | None = None,
    ) -> None:
        """What the run did; recorded when the `job_run` block ends (a run that reports nothing succeeded
        with empty counts)."""
        self.counts, self.rows, self.status, self.error = counts, rows, status, error


_migrated: set[tuple[str, tuple[str, ...]]] = set()
_migrated_lock = threading.Lock()


@contextmanager
def job_run(
    resources: Resources, job: str, *schemas: str, conn: psycopg.Connection[Any] | None = None
) -> Iterator[JobRun]:
    """One recorded run of `job` (see the module's docstring); `conn` reuses the caller's connection."""
    settings = resources.settings
    with ExitStack() as stack:
        if conn is None:
            conn = stack.enter_context(resources.connect())
        migrate_once(conn, *schemas)
        run_id = postgres.start_job_run(conn, job=job, submission_id=settings.job_submission_id)
        run = JobRun(job, run_id, conn)
        try:
            with _time_limit(settings.job_timeout_s, job):
                yield run
        except BaseException as error:
            status = "timed_out" if isinstance(error, JobTimedOut) else "failed"
            _record_failure(resources, run, status, repr(error))
            raise
        postgres.finish_job_run(
            conn, run_id=run.id, status=run.status, counts=run.counts, rows=run.rows, error=run.error
        )


def migrate_once(conn: psycopg.Connection[Any], *schemas: str) -> None:
    """`postgres.migrate`, once per process for each database and set of schemas."""
    key = (conn.info.dsn, schemas)
    with _migrated_lock:
        if key not in _migrated:
            postgres.migrate(conn, *schemas)
            _migrated.add(key)


def _record_failure(resources: Resources, run: JobRun, status: str, error: str) -> None:
    """The failure lands even when the body left a transaction broken or Postgres dropped the line."""
    if run.conn.broken or run.conn.closed:
        with resources.connect() as fresh:
            postgres.finish_job_run(fresh, run_id=run.id, status=status, counts=run.counts, error=error)
        return
    run.conn.rollback()
    postgres.finish_job_run(run.conn, run_id=run.id, status=status, counts=run.counts, error=error)


@contextmanager
def _time_limit(seconds: float | None, job: str) -> Iterator[None]:
    """Raise JobTimedOut in the body after `seconds`. Signals reach the main thread only: elsewhere (a
    job called from a test's thread) the scheduler's stop is the only limit."""
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise JobTimedOut(f"{job} ran past its time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
