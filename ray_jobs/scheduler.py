"""The scheduler: runs each job of `ray_jobs/schedules.yaml` when it is due and submits it as a Ray job.

    python -m ray_jobs.scheduler start            # the long-lived scheduler actor (detached)
    python -m ray_jobs.scheduler list             # jobs as a graph: triggers, time limits, next fire
    python -m ray_jobs.scheduler run NAME [--wait]
    python -m ray_jobs.scheduler history [--job NAME] [--limit N]

A job is due on its cron (APScheduler, coalescing missed fires into one within a grace window), when a
job it comes `after` succeeds, or when a folder it watches changes and then holds still for one
interval. Each run goes through the Ray Job Submission API, so it shows in the dashboard with its logs.
A partial unique index in Postgres keeps one run per job at a time: a fire while one runs is recorded
as `skipped`. A run past its `timeout_s` is stopped and recorded `timed_out` with the tail of its log;
failed and timed-out runs are retried with exponential backoff up to the policy's attempts, and when
none is left the jobs after it are recorded `skipped` with the reason. A scheduler that restarts
reconciles its `running` rows with what Ray says of their submissions.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import psycopg
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import SecretStr

from common import metrics, postgres, run_history
from common.embedded import (
    RAY_NAMESPACE,
    connect_to_cluster,
    long_lived_actor,
    path_with,
    worker_env,
)
from common.job_submission import TERMINAL, JobBackend, RayJobs
from common.resources import Resources
from common.run_history import (
    SCHEDULER_ACTOR,
    AlreadyRunning,
    ScheduledRun,
    Status,
    Trigger,
    TriggerOutcome,
)
from common.settings import Settings, get_settings
from ray_jobs.schedules import JobInfo, SchedulerConfig, idle_reason, job_infos

log = logging.getLogger(__name__)


def job_env(resources: Resources, submission_id: str, timeout_s: float) -> dict[str, str]:
    """The environment a submitted run starts with: this project importable, its `python` first on PATH,
    the settings this scheduler was given (so the run sees the same database and data), the submission
    id the job records with its counts, and its time limit (the job runner stops itself there). Secrets
    are left out: runtime envs show in the dashboard, so jobs get them from the nodes' environment like
    every other process there."""
    settings = resources.settings
    env = worker_env()
    env["PATH"] = path_with(os.path.dirname(sys.executable), "PATH")
    for name in sorted(settings.model_fields_set | {"base_dir", "data_dir"}):
        value = getattr(settings, name)
        if value is None or isinstance(value, SecretStr):
            continue
        env[name.upper()] = str(value)
    dsn = resources.dsn
    if not urlsplit(dsn).password:
        env["DATABASE_URL"] = dsn
    else:
        env.pop("DATABASE_URL", None)
    env["JOB_SUBMISSION_ID"] = submission_id
    env["JOB_TIMEOUT_S"] = str(timeout_s)
    return env


class JobScheduler:
    """Plain class (the actor below wraps it): cron triggers, submissions, watching, retries."""

    def __init__(
        self,
        config: SchedulerConfig,
        settings: Settings,
        backend: JobBackend,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._settings = settings
        self._backend = backend
        self._now = now
        self._resources = Resources(settings)
        self._watched = {
            name: self._resources.objects(getattr(settings, job.watch))
            for name, job in config.jobs.items()
            if job.watch is not None and idle_reason(job, settings) is None
        }
        # Per watched job, the folder's listing when the job was last fired by it (or at start), and at
        # the last poll.
        self._baseline: dict[str, Any] = {}
        self._last_seen: dict[str, Any] = {}
        self._stopped = threading.Event()  # watchers leave their runs to the next scheduler's reconciliation
        self._scheduler = BackgroundScheduler(
            timezone=ZoneInfo(config.timezone),
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": config.misfire_grace_s,
            },
        )

    def start(self) -> None:
        with self._resources.connect() as conn:
            postgres.migrate(conn, run_history.SCHEMA)
            successes = run_history.last_successes(conn)
        self._reconcile()
        for name, job in self.config.jobs.items():
            reason = idle_reason(job, self._settings)
            if reason is not None:
                log.info("scheduler: %s %s", name, reason)
                continue
            self._publish_schedule(name, successes.get(name))
            cron = self.config.trigger(name)
            if cron is not None:
                self._scheduler.add_job(self._fire, cron, args=(name,), id=name, name=name)
        if self._watched:
            self._scheduler.add_job(
                self._poll_watched,
                IntervalTrigger(seconds=self.config.watch_interval_s),
                id="watch",
                name="watched folders",
                next_run_time=self._now(),
            )
        self._scheduler.start()

    def shutdown(self) -> None:
        self._stopped.set()
        self._scheduler.shutdown(wait=False)

    def jobs(self) -> list[JobInfo]:
        return job_infos(self.config, self._settings, self._now())

    def trigger(self, job: str, trigger: Trigger = "manual", attempt: int = 1) -> TriggerOutcome:
        """Start a run now; it runs in the background and its outcome lands in the history."""
        schedule = self.config.jobs.get(job)
        if schedule is None:
            return TriggerOutcome(
                status="unknown_job", message=f"no job named {job!r}; jobs: {sorted(self.config.jobs)}"
            )
        reason = idle_reason(schedule, self._settings)
        if reason is not None:
            return TriggerOutcome(status="idle", message=f"{job} is {reason}")
        with self._resources.connect() as conn:
            try:
                run_id = run_history.start_scheduled_run(conn, job=job, trigger=trigger, attempt=attempt)
            except AlreadyRunning as running:
                return TriggerOutcome(status="already_running", message=str(running), run_id=running.run_id)
            submission_id = f"{job}-{run_id}-{uuid.uuid4().hex[:8]}"
            try:
                self._backend.submit(
                    entrypoint=schedule.entrypoint,
                    submission_id=submission_id,
                    env=job_env(self._resources, submission_id, schedule.timeout_s),
                )
            except Exception as error:  # the dashboard down, a bad runtime env
                run_history.finish_scheduled_run(
                    conn, run_id=run_id, status="failed", error=f"submit: {error}"
                )
                self._ended(job, run_id, "failed", attempt)
                return TriggerOutcome(
                    status="submit_failed", message=f"{job}: submission failed: {error}", run_id=run_id
                )
            run_history.set_submission(conn, run_id=run_id, submission_id=submission_id)
        deadline = time.monotonic() + schedule.timeout_s
        self._watch(job, run_id, submission_id, attempt, deadline)
        return TriggerOutcome(
            status="submitted", message=f"{job} submitted as {submission_id}", run_id=run_id
        )

    def history(self, job: str | None = None, limit: int = 50) -> list[ScheduledRun]:
        with self._resources.connect() as conn:
            return run_history.history(conn, job=job, limit=limit)

    def _fire(self, job: str, trigger: Trigger = "cron") -> None:
        outcome = self.trigger(job, trigger)
        log.info("scheduler: %s fired (%s): %s", job, trigger, outcome.message)

    def _poll_watched(self) -> None:
        """Fire a watched job when its folder changed since it last ran and held still since the last
        poll (a feed still being copied in is not read half-written)."""
        for job, folder in self._watched.items():
            try:
                listing = folder.fingerprint()
            except Exception as error:  # a folder or bucket out of reach: the next poll tries again
                log.warning("scheduler: cannot list %s for %s: %s", folder.root, job, error)
                continue
            baseline = self._baseline.setdefault(job, listing)
            settled = listing == self._last_seen.get(job)
            self._last_seen[job] = listing
            if listing == baseline or not settled:
                continue
            with self._resources.connect() as conn:
                if run_history.is_running(conn, job=job):
                    continue  # the run in progress may not have read it: fire once it ended
            if self.trigger(job, "watch").status == "submitted":
                self._baseline[job] = listing
                log.info("scheduler: %s fired: %s changed", job, folder.root)

    def _watch(self, job: str, run_id: int, submission_id: str, attempt: int, deadline: float) -> None:
        thread = threading.Thread(
            target=self._wait_for, args=(job, run_id, submission_id, attempt, deadline), daemon=True
        )
        thread.start()

    def _wait_for(self, job: str, run_id: int, submission_id: str, attempt: int, deadline: float) -> None:
        state = self._backend.state(submission_id)
        timed_out = False
        while state not in TERMINAL and state != "unknown":
            if time.monotonic() >= deadline and not timed_out:
                timed_out = True  # stop it, then wait for Ray to say it stopped
                self._backend.stop(submission_id)
            if self._stopped.wait(self.config.poll_s):
                return
            state = self._backend.state(submission_id)
        # The job's own runner may stop it at its limit just before this loop does.
        timed_out = timed_out or (state == "failed" and time.monotonic() >= deadline)
        status: Status = "succeeded" if state == "succeeded" and not timed_out else "failed"
        error = None
        if timed_out:
            status = "timed_out"
            limit = self.config.jobs[job].timeout_s
            error = f"timed out after {limit:g} s; stopped\n{self._backend.failure(submission_id)}"
        elif state == "failed":
            error = self._backend.failure(submission_id)
        elif state != "succeeded":
            error = f"ray job {submission_id} is {state}"
        while True:
            try:
                with self._resources.connect() as conn:
                    run_history.finish_scheduled_run(conn, run_id=run_id, status=status, error=error)
                break
            except psycopg.OperationalError as db_error:  # Postgres restarting: the outcome must land
                log.warning("scheduler: recording %s failed (%s); retrying", submission_id, db_error)
                if self._stopped.wait(max(self.config.poll_s, 5)):
                    return
        self._ended(job, run_id, status, attempt)

    def _ended(self, job: str, run_id: int, status: Status, attempt: int) -> None:
        """What follows a run: the jobs after it when it succeeded; else a retry, or, with none left,
        the jobs after it recorded as skipped with the reason."""
        retry_delay = None if status == "succeeded" else self.config.policy(job).delay_s(attempt)
        metrics.count_scheduled_run(job, status, retries_left=retry_delay is not None)
        if status == "succeeded":
            self._publish_schedule(job, self._now())
            for downstream in self.config.downstream(job):
                if idle_reason(self.config.jobs[downstream], self._settings) is None:
                    self._fire(downstream, "upstream")
        elif retry_delay is not None:
            self._retry_later(job, attempt, retry_delay)
        else:
            log.warning("scheduler: %s %s %d times; no retry left", job, status, attempt)
            reason = f"upstream {job} {status} (run {run_id}) with no retry left"
            with self._resources.connect() as conn:
                for downstream in self.config.downstream(job):
                    run_history.record_skipped(conn, job=downstream, trigger="upstream", reason=reason)
                    metrics.count_scheduled_run(downstream, "skipped", retries_left=True)

    def _publish_schedule(self, job: str, last_success: datetime | None) -> None:
        interval = self.config.expected_interval_s(job, self._now())
        if interval is not None:
            metrics.set_job_schedule(
                job,
                last_success_s=None if last_success is None else last_success.timestamp(),
                expected_interval_s=interval,
            )

    def _retry_later(self, job: str, failed_attempt: int, delay: float) -> None:
        self._scheduler.add_job(
            self.trigger,
            DateTrigger(self._now() + timedelta(seconds=delay)),
            args=(job, "retry", failed_attempt + 1),
            name=f"{job} retry {failed_attempt + 1}",
        )

    def _reconcile(self) -> None:
        """Runs left `running` by a scheduler that stopped: watch them again, or close them."""
        with self._resources.connect() as conn:
            for run in run_history.running(conn):
                if run.submission_id is None:
                    run_history.finish_scheduled_run(
                        conn, run_id=run.id, status="failed", error="scheduler stopped before submitting"
                    )
                else:
                    elapsed = (self._now() - run.started_at).total_seconds()
                    timeout = self.config.jobs[run.job].timeout_s if run.job in self.config.jobs else 0
                    self._watch(
                        run.job, run.id, run.submission_id, run.attempt, time.monotonic() + timeout - elapsed
                    )


class SchedulerActor:
    """The detached Ray actor that owns one JobScheduler for the cluster."""

    def __init__(self, config: SchedulerConfig, settings: Settings) -> None:
        self._scheduler = JobScheduler(config, settings, RayJobs(config.dashboard_url))
        self._scheduler.start()

    def jobs(self) -> list[JobInfo]:
        return self._scheduler.jobs()

    def trigger(self, job: str) -> TriggerOutcome:
        return self._scheduler.trigger(job)


def start(settings: Settings, config: SchedulerConfig | None = None) -> Any:
    """The scheduler actor, created if it is not running (one per Ray namespace; Ray must be connected)."""
    import ray

    config = config or SchedulerConfig.from_yaml(settings.schedules_config)
    handle: Any = long_lived_actor(SchedulerActor, SCHEDULER_ACTOR).remote(
        config, settings
    )  # Any: Ray's stubs do not know the actor's methods
    ray.get(handle.jobs.remote())  # surfaces a failed start (bad config, no database) here
    return handle


def running_scheduler() -> Any | None:
    """The scheduler actor's handle, or None when none runs (Ray must be connected)."""
    import ray

    try:
        return ray.get_actor(SCHEDULER_ACTOR, namespace=RAY_NAMESPACE)
    except ValueError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ray_jobs.scheduler",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("start", help="start the scheduler actor (detached) and exit")
    commands.add_parser("list", help="jobs, schedules and next fire times")
    run = commands.add_parser("run", help="run a job now")
    run.add_argument("name")
    run.add_argument("--wait", action="store_true", help="wait for the run to finish")
    history = commands.add_parser("history", help="recent runs, newest first")
    history.add_argument("--job")
    history.add_argument("--limit", type=int, default=20)
    args = parser.parse_args(argv)
    settings = get_settings()
    config = SchedulerConfig.from_yaml(settings.schedules_config)
    if args.command == "start":
        connect_to_cluster(settings)
        start(settings, config)
        print(f"scheduler {SCHEDULER_ACTOR} running")
        return 0
    if args.command == "list":
        print("\n".join(graph_lines(job_infos(config, settings, datetime.now(UTC)))))
        return 0
    if args.command == "history":
        with Resources(settings).connect() as conn:
            postgres.migrate(conn, run_history.SCHEMA)
            runs = run_history.history(conn, job=args.job, limit=args.limit)
        print_runs(runs)
        return 0
    return run_now(settings, args.name, wait=args.wait)


def run_now(settings: Settings, name: str, *, wait: bool) -> int:
    """Through the scheduler actor (started if needed), so the no-overlap rule holds."""
    import ray

    try:
        connect_to_cluster(settings)
    except ConnectionError as error:
        print(error)
        return 2
    handle = running_scheduler() or start(settings)
    outcome: TriggerOutcome = ray.get(handle.trigger.remote(name))
    print(outcome.message)
    if outcome.status != "submitted" or outcome.run_id is None:
        return 2
    if not wait:
        return 0
    with Resources(settings).connect() as conn:
        while True:
            run = next(r for r in run_history.history(conn, job=name, limit=20) if r.id == outcome.run_id)
            if run.status != "running":
                print_runs([run])
                return 0 if run.status == "succeeded" else 1
            time.sleep(2)


def graph_lines(infos: list[JobInfo], *, entrypoints: bool = True) -> list[str]:
    """Each job with what starts it (cron, the jobs it follows, the folder it watches), what it starts,
    its time limit and next fire; its entrypoint underneath."""
    lines = []
    for info in infos:
        starts = [f"cron {info.cron}"] if info.cron else []
        starts += [f"after {upstream}" for upstream in info.after]
        starts += [f"watch {info.watch}"] if info.watch else []
        when = info.idle or (f"next {info.next_run:%Y-%m-%d %H:%M %Z}" if info.next_run else "")
        lines.append(f"{info.name:<16} {' · '.join(starts)}  (timeout {info.timeout_s:g} s) {when}".rstrip())
        if info.then:
            lines.append(f"{'':<16} → {', '.join(info.then)}")
        if entrypoints:
            lines.append(f"{'':<16} $ {info.entrypoint}")
    return lines


def print_runs(runs: list[ScheduledRun]) -> None:
    print(
        f"{'id':>5} {'job':<16} {'trigger':<8} {'try':>3} {'status':<9} {'started':<16} read/written/rejected"
    )
    for run in runs:
        counts = "/".join(
            "–" if value is None else str(value) for value in (run.read, run.written, run.rejected)
        )
        print(
            f"{run.id:>5} {run.job:<16} {run.trigger:<8} {run.attempt:>3} {run.status:<9} "
            f"{run.started_at:%Y-%m-%d %H:%M} {counts}"
            + (f"\n      {run.error.splitlines()[0]}" if run.error else "")
        )


if __name__ == "__main__":
    sys.exit(main())
