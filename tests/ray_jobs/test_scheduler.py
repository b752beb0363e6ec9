"""The scheduler: config and retry policy (pure), then runs against the real Postgres with the in-process
job backend (each run a real subprocess), then once through Ray's Job Submission API."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError

from common import postgres, run_history
from common.job_submission import LocalProcessJobs
from common.resources import Resources
from common.run_history import ScheduledRun
from common.settings import PROJECT_ROOT, Settings
from ray_jobs.scheduler import JobScheduler, job_env
from ray_jobs.schedules import JobSchedule, RetryPolicy, SchedulerConfig, idle_reason

JOB = f"{sys.executable} -m tests.ray_jobs.scheduled_job"
ERP_JOB = JobSchedule(cron="*/30 * * * *", entrypoint="x", requires=["erp_url"])


@pytest.mark.parametrize(
    ("policy", "failed_attempt", "delay"),
    [
        (RetryPolicy(max_attempts=3, backoff_s=60), 1, 60),
        (RetryPolicy(max_attempts=3, backoff_s=60), 2, 120),
        (RetryPolicy(max_attempts=3, backoff_s=60), 3, None),
        (RetryPolicy(max_attempts=6, backoff_s=60, max_backoff_s=200), 4, 200),
        (RetryPolicy(max_attempts=4, backoff_s=10, backoff_factor=3), 3, 90),
        (RetryPolicy(max_attempts=1), 1, None),
    ],
)
def test_retry_waits_grow_exponentially_up_to_the_cap(
    policy: RetryPolicy, failed_attempt: int, delay: float | None
) -> None:
    assert policy.delay_s(failed_attempt) == delay


def test_shipped_schedules_are_the_design_defaults_in_sao_paulo_time() -> None:
    config = SchedulerConfig.from_yaml(PROJECT_ROOT / "ray_jobs" / "schedules.yaml")
    after_midnight_sp = datetime(2026, 11, 25, 3, 1, tzinfo=UTC)  # 00:01 in America/Sao_Paulo (UTC-3)
    fires = {name: config.next_fire(name, after_midnight_sp) for name in config.jobs}
    assert {name: fire.astimezone(UTC).strftime("%H:%M") for name, fire in fires.items() if fire} == {
        "catalog": "05:00",
        "knowledge_bases": "07:00",
        "tariffs": "09:00",
        "erp_sync": "03:30",
        "storefront_publish": "03:15",
    }


def test_shipped_dependencies_are_declared_not_timed() -> None:
    config = SchedulerConfig.from_yaml(PROJECT_ROOT / "ray_jobs" / "schedules.yaml")
    # The ETL, then its embeddings, and the storefront's copy of what changed.
    assert config.downstream("catalog") == ["embed_catalog", "storefront_publish"]
    assert config.downstream("embed_catalog") == ["knowledge_bases"]  # pricing passages reuse vectors
    assert config.downstream("erp_sync") == ["homologacao_ai"]
    assert (config.jobs["catalog"].watch, config.jobs["knowledge_bases"].watch) == ("feeds_uri", "docs_uri")
    assert all(job.timeout_s <= 3600 for job in config.jobs.values())
    now = datetime(2026, 11, 25, 3, 1, tzinfo=UTC)
    assert config.expected_interval_s("erp_sync", now) == 1800 + 900
    assert (
        config.expected_interval_s("homologacao_ai", now) == 1800 + 900 + 900
    )  # its upstream's, and its own


@pytest.mark.parametrize(
    ("document", "mentions"),
    [
        ({"jobs": {"x": {"cron": "0 25 * * *", "entrypoint": "true"}}}, "maximum value"),
        ({"jobs": {"x": {"cron": "every day", "entrypoint": "true"}}}, "cron"),
        ({"timezone": "America/Atlantis", "jobs": {}}, "unknown timezone"),
        (
            {"jobs": {"x": {"cron": "* * * * *", "entrypoint": "true", "requires": ["erp"]}}},
            "unknown settings",
        ),
        ({"jobs": {"x": {"watch": "feeds", "entrypoint": "true"}}}, "unknown settings"),
        ({"jobs": {"x": {"entrypoint": "true"}}}, "a cron, an `after` or a `watch`"),
        ({"jobs": {"x": {"after": ["y"], "entrypoint": "true"}}}, "after unknown jobs"),
        (
            {
                "jobs": {
                    "a": {"after": ["c"], "entrypoint": "true"},
                    "b": {"after": ["a"], "entrypoint": "true"},
                    "c": {"after": ["b"], "cron": "0 2 * * *", "entrypoint": "true"},
                }
            },
            "cycle",
        ),
        ({"jobs": {"x": {"cron": "0 2 * * *", "entrypoint": "true", "timeout_s": 0}}}, "greater than 0"),
    ],
)
def test_bad_schedules_fail_when_loaded(document: dict[str, object], mentions: str) -> None:
    with pytest.raises(ValidationError, match=mentions):
        SchedulerConfig.model_validate(document)


@pytest.mark.parametrize(
    ("job", "settings", "reason"),
    [
        (JobSchedule(cron="*/30 * * * *", entrypoint="x", requires=["erp_url"]), Settings(), "ERP_URL"),
        (
            JobSchedule(cron="*/30 * * * *", entrypoint="x", requires=["erp_url"]),
            Settings(erp_url="http://e"),
            None,
        ),
        (JobSchedule(cron="0 2 * * *", entrypoint="x", enabled=False), Settings(), "disabled"),
    ],
)
def test_jobs_are_idle_without_their_settings(
    job: JobSchedule, settings: Settings, reason: str | None
) -> None:
    got = idle_reason(job, settings)
    assert got is None if reason is None else reason in (got or "")


def test_runs_get_the_settings_and_their_submission_id_but_no_secrets(fresh_settings: Settings) -> None:
    settings = Settings.model_validate(
        {**fresh_settings.model_dump(), "erp_token": "erp-secret-value", "feeds_uri": "s3://bucket/feeds"}
    )
    env = job_env(Resources(settings), "catalog-1-abc", 1800)
    assert env["JOB_SUBMISSION_ID"] == "catalog-1-abc"
    assert env["JOB_TIMEOUT_S"] == "1800"
    assert env["DATA_DIR"] == str(fresh_settings.data_dir) and env["BASE_DIR"] == str(PROJECT_ROOT)
    assert env["DATABASE_URL"] == fresh_settings.database_url
    assert env["FEEDS_URI"] == "s3://bucket/feeds"
    assert "erp-secret-value" not in "".join(env.values())


def test_a_run_submitted_from_a_worker_lists_each_path_once(
    fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduler actor's own environment already starts with what `worker_env` prepends."""
    first = job_env(Resources(fresh_settings), "catalog-1-abc", 60)
    monkeypatch.setenv("PATH", first["PATH"])
    monkeypatch.setenv("PYTHONPATH", first["PYTHONPATH"])
    again = job_env(Resources(fresh_settings), "catalog-2-abc", 60)
    assert (again["PATH"], again["PYTHONPATH"]) == (first["PATH"], first["PYTHONPATH"])
    for variable in ("PATH", "PYTHONPATH"):
        entries = again[variable].split(os.pathsep)
        assert len(entries) == len(set(entries)) and "" not in entries


def wait_until(predicate: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def runs(settings: Settings) -> list[ScheduledRun]:
    with postgres.connect(settings.database_url or "") as conn:
        return list(reversed(run_history.history(conn, limit=100)))


def finished(settings: Settings, count: int) -> Callable[[], bool]:
    return lambda: sum(run.status != "running" for run in runs(settings)) >= count


def config_with(jobs: dict[str, str], **retry: float) -> SchedulerConfig:
    return SchedulerConfig(
        jobs={name: JobSchedule(cron="0 2 * * *", entrypoint=command) for name, command in jobs.items()},
        retry=RetryPolicy(backoff_s=0.1, **retry),
        poll_s=0.1,
        watch_interval_s=0.2,
    )


@pytest.fixture
def scheduler_for(fresh_settings: Settings) -> Iterator[Callable[[SchedulerConfig], JobScheduler]]:
    started: list[JobScheduler] = []

    def make(config: SchedulerConfig) -> JobScheduler:
        scheduler = JobScheduler(config, fresh_settings, LocalProcessJobs())
        scheduler.start()
        started.append(scheduler)
        return scheduler

    yield make
    for scheduler in started:
        scheduler.shutdown()


def test_a_manual_run_is_recorded_with_the_jobs_counts(
    scheduler_for: Callable[[SchedulerConfig], JobScheduler], fresh_settings: Settings
) -> None:
    scheduler = scheduler_for(config_with({"sample": JOB}))
    outcome = scheduler.trigger("sample")
    assert outcome.status == "submitted" and outcome.run_id is not None
    wait_until(finished(fresh_settings, 1))
    [run] = runs(fresh_settings)
    assert (run.id, run.job, run.trigger, run.attempt, run.status) == (
        outcome.run_id,
        "sample",
        "manual",
        1,
        "succeeded",
    )
    assert run.submission_id and run.submission_id.startswith(f"sample-{run.id}-")
    assert (run.read, run.written, run.rejected) == (10, 7, 3)
    assert run.finished_at is not None and run.finished_at >= run.started_at


def test_never_two_runs_of_a_job_at_once(
    scheduler_for: Callable[[SchedulerConfig], JobScheduler], fresh_settings: Settings
) -> None:
    scheduler = scheduler_for(config_with({"slow": f"{JOB} --sleep 3", "other": JOB}))
    first = scheduler.trigger("slow")
    second = scheduler.trigger("slow")
    other = scheduler.trigger("other")  # another job is not held up
    assert first.status == "submitted"
    assert (second.status, second.run_id) == ("already_running", first.run_id)
    assert other.status == "submitted"
    wait_until(finished(fresh_settings, 3))
    by_status = sorted((run.job, run.status) for run in runs(fresh_settings))
    assert by_status == [("other", "succeeded"), ("slow", "skipped"), ("slow", "succeeded")]
    with postgres.connect(fresh_settings.database_url or "") as conn:
        job_runs = conn.execute("SELECT count(*) FROM job_runs").fetchone()
    assert job_runs == {"count": 2}


def test_failed_runs_are_retried_with_backoff_until_one_succeeds(
    scheduler_for: Callable[[SchedulerConfig], JobScheduler], fresh_settings: Settings, tmp_path: Path
) -> None:
    command = f"{JOB} --fail-first 2 --attempts-file {tmp_path / 'attempts'}"
    scheduler = scheduler_for(config_with({"flaky": command}, max_attempts=3))
    scheduler.trigger("flaky")
    wait_until(lambda: any(run.status == "succeeded" for run in runs(fresh_settings)))
    history = runs(fresh_settings)
    assert [(run.trigger, run.attempt, run.status) for run in history] == [
        ("manual", 1, "failed"),
        ("retry", 2, "failed"),
        ("retry", 3, "succeeded"),
    ]
    assert all("fails as asked" in (run.error or "") for run in history[:2])


def test_retries_stop_at_the_policys_attempts(
    scheduler_for: Callable[[SchedulerConfig], JobScheduler], fresh_settings: Settings, tmp_path: Path
) -> None:
    command = f"{JOB} --fail-first 9 --attempts-file {tmp_path / 'attempts'}"
    scheduler = scheduler_for(config_with({"broken": command}, max_attempts=2))
    scheduler.trigger("broken")
    wait_until(finished(fresh_settings, 2))
    time.sleep(1)  # room for a third attempt that must not come
    assert [(run.attempt, run.status) for run in runs(fresh_settings)] == [(1, "failed"), (2, "failed")]
    assert (tmp_path / "attempts").read_text() == "2"


def test_a_run_past_its_time_limit_is_stopped_recorded_and_retried(
    scheduler_for: Callable[[SchedulerConfig], JobScheduler], fresh_settings: Settings, tmp_path: Path
) -> None:
    config = config_with(
        {"stuck": f"{JOB} --sleep 60 --attempts-file {tmp_path / 'attempts'}"}, max_attempts=2
    )
    config.jobs["stuck"].timeout_s = 1.5
    scheduler = scheduler_for(config)
    started = time.monotonic()
    scheduler.trigger("stuck")
    wait_until(finished(fresh_settings, 2), timeout_s=40)
    assert time.monotonic() - started < 30  # two runs of 1.5 s and their stops, not two minutes of sleep
    history = runs(fresh_settings)
    assert [(run.trigger, run.attempt, run.status) for run in history] == [
        ("manual", 1, "timed_out"),
        ("retry", 2, "timed_out"),
    ]
    assert all((run.error or "").startswith("timed out after 1.5 s") for run in history)
    assert scheduler.trigger("stuck").status == "submitted"  # a stuck run never blocks later fires


def test_a_job_runs_when_its_upstream_succeeds_and_is_skipped_when_it_fails_for_good(
    scheduler_for: Callable[[SchedulerConfig], JobScheduler], fresh_settings: Settings, tmp_path: Path
) -> None:
    config = config_with(
        {
            "etl": f"{JOB} --fail-first 1 --attempts-file {tmp_path / 'etl'}",
            "broken": f"{JOB} --fail-first 9",
        },
        max_attempts=2,
    )
    config.jobs["embed"] = JobSchedule(after=["etl"], entrypoint=JOB)
    config.jobs["after_broken"] = JobSchedule(after=["broken"], entrypoint=JOB)
    scheduler = scheduler_for(config)
    scheduler.trigger("etl")
    scheduler.trigger("broken")
    wait_until(finished(fresh_settings, 6))
    by_job = {(run.job, run.trigger, run.attempt, run.status) for run in runs(fresh_settings)}
    assert by_job == {
        ("etl", "manual", 1, "failed"),
        ("etl", "retry", 2, "succeeded"),
        ("embed", "upstream", 1, "succeeded"),
        ("broken", "manual", 1, "failed"),
        ("broken", "retry", 2, "failed"),
        ("after_broken", "upstream", 1, "skipped"),
    }
    [skipped] = [run for run in runs(fresh_settings) if run.status == "skipped"]
    assert skipped.error is not None and "upstream broken failed" in skipped.error


def test_a_watched_folder_fires_its_job_once_per_settled_change(
    scheduler_for: Callable[[SchedulerConfig], JobScheduler], fresh_settings: Settings, tmp_path: Path
) -> None:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "a.csv").write_text("sku,price\n1,10\n")
    config = config_with({})
    config.jobs["catalog"] = JobSchedule(watch="feeds_uri", entrypoint=JOB)
    settings = fresh_settings.model_copy(update={"feeds_uri": str(feeds)})
    scheduler = JobScheduler(config, settings, LocalProcessJobs())
    scheduler.start()
    try:
        time.sleep(1)  # polls see the folder as it was: no run
        assert runs(fresh_settings) == []
        (feeds / "b.csv").write_text("sku,price\n2,20\n")
        wait_until(finished(fresh_settings, 1))
        time.sleep(1)  # the same listing again: no second run
        assert [(run.job, run.trigger, run.status) for run in runs(fresh_settings)] == [
            ("catalog", "watch", "succeeded")
        ]
    finally:
        scheduler.shutdown()


def test_cron_fires_submit_runs_and_idle_jobs_are_not_scheduled(
    scheduler_for: Callable[[SchedulerConfig], JobScheduler], fresh_settings: Settings
) -> None:
    config = config_with({"nightly": JOB})
    config.jobs["erp"] = JobSchedule(cron="*/30 * * * *", entrypoint=JOB, requires=["erp_url"])
    scheduler = scheduler_for(config)
    infos = {info.name: info for info in scheduler.jobs()}
    assert infos["erp"].idle is not None and infos["erp"].next_run is None
    assert infos["nightly"].next_run is not None and infos["nightly"].next_run.hour == 2
    assert scheduler.trigger("erp").status == "idle"
    assert scheduler.trigger("nope").status == "unknown_job"
    # What APScheduler does at 02:00, now: its job for `nightly` fires.
    cron_job = scheduler._scheduler.get_job("nightly")
    assert scheduler._scheduler.get_job("erp") is None
    cron_job.modify(next_run_time=datetime.now(UTC))
    wait_until(finished(fresh_settings, 1))
    assert [(run.job, run.trigger, run.status) for run in runs(fresh_settings)] == [
        ("nightly", "cron", "succeeded")
    ]


def test_a_restarted_scheduler_closes_runs_it_never_submitted(
    scheduler_for: Callable[[SchedulerConfig], JobScheduler], fresh_settings: Settings
) -> None:
    with postgres.connect(fresh_settings.database_url or "") as conn:
        postgres.migrate(conn, run_history.SCHEMA)
        left = run_history.start_scheduled_run(conn, job="sample", trigger="cron")
    scheduler = scheduler_for(config_with({"sample": JOB}))
    [run] = runs(fresh_settings)
    assert (run.id, run.status, run.error) == (left, "failed", "scheduler stopped before submitting")
    assert scheduler.trigger("sample").status == "submitted"  # the job is free to run again


def test_history_survives_a_scheduler_and_shows_newest_first(fresh_settings: Settings) -> None:
    with postgres.connect(fresh_settings.database_url or "") as conn:
        postgres.migrate(conn, run_history.SCHEMA)
        ids = [run_history.start_scheduled_run(conn, job=f"j{i}", trigger="manual") for i in range(3)]
        for run_id in ids:
            run_history.finish_scheduled_run(conn, run_id=run_id, status="succeeded")
        newest = run_history.history(conn, limit=2)
        only = run_history.history(conn, job="j1")
    assert [run.id for run in newest] == [ids[2], ids[1]]
    assert [run.id for run in only] == [ids[1]]
    assert (only[0].read, only[0].written, only[0].rejected) == (None, None, None)  # no job_runs row


def test_two_schedulers_cannot_both_start_a_job(fresh_settings: Settings) -> None:
    """The guarantee lives in Postgres (a partial unique index), not in one scheduler's memory."""
    with postgres.connect(fresh_settings.database_url or "") as conn:
        postgres.migrate(conn, run_history.SCHEMA)
        run_history.start_scheduled_run(conn, job="catalog", trigger="cron")
        with pytest.raises(run_history.AlreadyRunning):
            run_history.start_scheduled_run(conn, job="catalog", trigger="manual")
        with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
            conn.execute(
                "INSERT INTO scheduled_runs (job, trigger, status) VALUES ('catalog', 'cron', 'running')"
            )


@pytest.mark.slow
def test_the_scheduler_actor_runs_jobs_through_ray_job_submission(
    ray_session: str, fresh_settings: Settings
) -> None:
    import ray
    from ray.job_submission import JobStatus, JobSubmissionClient

    from ray_jobs import scheduler
    from serve_app.routes.admin import trigger_through_scheduler

    config = SchedulerConfig(
        jobs={"sample": JobSchedule(cron="0 2 * * *", entrypoint="python -m tests.ray_jobs.scheduled_job")},
        poll_s=0.5,
        dashboard_url=ray_session,
    )
    handle = scheduler.start(fresh_settings, config)
    try:
        assert scheduler.running_scheduler() is not None
        outcome = asyncio.run(trigger_through_scheduler("sample"))  # the admin API's path to the actor
        assert outcome.status == "submitted"
        wait_until(finished(fresh_settings, 1), timeout_s=180)
        [run] = runs(fresh_settings)
        assert (run.status, run.read, run.written, run.rejected) == ("succeeded", 10, 7, 3)
        assert run.submission_id is not None
        assert JobSubmissionClient(ray_session).get_job_status(run.submission_id) == JobStatus.SUCCEEDED
    finally:
        ray.kill(handle)


@pytest.fixture
def cli_env(fresh_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The CLI reads its settings from the environment, like any `python -m` run."""
    from common.settings import get_settings

    schedules = tmp_path / "schedules.yaml"
    schedules.write_text(
        f"jobs:\n  sample:\n    cron: '15 3 * * *'\n    entrypoint: {JOB}\n"
        "  erp_sync:\n    cron: '*/30 * * * *'\n    entrypoint: python -m ray_jobs.erp_sync all\n"
        "    requires: [erp_url]\n"
        f"  follower:\n    after: [sample]\n    entrypoint: {JOB}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DATABASE_URL", fresh_settings.database_url or "")
    monkeypatch.setenv("SCHEDULES_CONFIG", str(schedules))
    monkeypatch.delenv("ERP_URL", raising=False)
    get_settings.cache_clear()
    yield schedules
    get_settings.cache_clear()


def test_cli_lists_jobs_with_their_next_run_or_why_they_are_idle(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ray_jobs.scheduler import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "sample" in out and "cron 15 3 * * *" in out and "03:15 -03" in out
    assert "erp_sync" in out and "idle until ERP_URL is set" in out
    assert "after sample" in out and "→ follower" in out  # the graph, both ways


def test_cli_history_prints_runs_with_counts(
    cli_env: Path, fresh_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from ray_jobs.scheduler import main

    scheduler = JobScheduler(
        SchedulerConfig.from_yaml(cli_env).model_copy(update={"poll_s": 0.1}),
        fresh_settings,
        LocalProcessJobs(),
    )
    scheduler.start()
    try:
        scheduler.trigger("sample")
        wait_until(finished(fresh_settings, 1))
    finally:
        scheduler.shutdown()
    assert main(["history", "--job", "sample"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "read/written/rejected" in lines[0]
    assert lines[1].split()[1:5] == ["sample", "manual", "1", "succeeded"] and lines[1].endswith("10/7/3")
