"""The scheduler's typed config (`ray_jobs/schedules.yaml`): jobs, their triggers, time limits, retries.

A job fires on its cron, when a job it comes `after` succeeds (dependencies declared, not timed), and/or
when the folder it `watch`es changes. Cron expressions are validated when the file loads (APScheduler's
crontab parser, the one that fires them), and so are the dependency graph (known jobs, no cycle) and the
watched settings: a typo fails at start, not at 02:00.
"""

from __future__ import annotations

from datetime import datetime
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, Field, field_validator, model_validator

from common.settings import Settings
from common.yaml_config import YamlConfig


class RetryPolicy(BaseModel):
    max_attempts: int = Field(default=3, ge=1, description="Runs in all, the first included.")
    backoff_s: float = Field(default=60, ge=0, description="Wait before the first retry.")
    backoff_factor: float = Field(default=2, ge=1, description="Each retry waits this much longer.")
    max_backoff_s: float = Field(default=1800, ge=0, description="Longest wait between retries.")

    def delay_s(self, failed_attempt: int) -> float | None:
        """Seconds to wait after attempt `failed_attempt` (1-based) failed; None when none is left."""
        if failed_attempt >= self.max_attempts:
            return None
        return min(self.backoff_s * self.backoff_factor ** (failed_attempt - 1), self.max_backoff_s)


class JobSchedule(BaseModel):
    cron: str | None = Field(default=None, description="Five-field crontab, in the scheduler's timezone.")
    after: list[str] = Field(
        default_factory=list,
        description="Jobs this one follows: it runs when one of them succeeds, and is recorded `skipped` "
        "with the reason when one fails for good.",
    )
    watch: str | None = Field(
        default=None,
        description="A setting naming a folder or s3:// prefix (e.g. feeds_uri): a file added, changed or "
        "removed there fires the job (checked every watch_interval_s).",
    )
    entrypoint: str = Field(description="Shell command the Ray job runs, as for `ray job submit`.")
    timeout_s: float = Field(
        default=3600,
        gt=0,
        description="A run still going after this is stopped, recorded `timed_out`, retried by the policy.",
    )
    description: str = ""
    requires: list[str] = Field(
        default_factory=list,
        description="Settings that must be set for the job to run (e.g. erp_url); unset: the job is idle.",
    )
    retry: RetryPolicy | None = Field(default=None, description="Overrides the scheduler's policy.")
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None:
            CronTrigger.from_crontab(value)
        return value

    @model_validator(mode="after")
    def _has_a_trigger(self) -> Self:
        if self.cron is None and not self.after and self.watch is None:
            raise ValueError("a job needs a cron, an `after` or a `watch` to ever run by itself")
        return self


class SchedulerConfig(YamlConfig):
    timezone: str = Field(default="America/Sao_Paulo", description="IANA zone the cron fields are in.")
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    jobs: dict[str, JobSchedule] = Field(default_factory=dict)
    poll_s: float = Field(default=2.0, gt=0, description="How often a running job's status is read.")
    watch_interval_s: float = Field(
        default=30.0, gt=0, description="How often watched folders are listed for changes."
    )
    misfire_grace_s: int = Field(
        default=3600,
        ge=1,
        description="A fire missed while the scheduler was down still runs (once) within this window.",
    )
    dashboard_url: str | None = Field(
        default=None,
        description="Ray dashboard (Job Submission API) address; unset: the cluster this process is in.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _requirements_are_settings(self) -> Self:
        for name, job in self.jobs.items():
            named = [*job.requires, *([job.watch] if job.watch else [])]
            unknown = [field for field in named if field not in Settings.model_fields]
            if unknown:
                raise ValueError(f"job {name!r} requires or watches unknown settings {unknown}")
        return self

    @model_validator(mode="after")
    def _dependencies_form_a_graph(self) -> Self:
        for name, job in self.jobs.items():
            unknown = sorted(set(job.after) - set(self.jobs))
            if unknown:
                raise ValueError(f"job {name!r} comes after unknown jobs {unknown}")
        for name in self.jobs:
            if name in self.upstream_closure(name):
                raise ValueError(f"job {name!r} depends on itself (a cycle through `after`)")
        return self

    def upstream_closure(self, job: str) -> set[str]:
        """Every job `job` waits on, directly or through others."""
        seen: set[str] = set()
        todo = list(self.jobs[job].after)
        while todo:
            upstream = todo.pop()
            if upstream not in seen:
                seen.add(upstream)
                todo.extend(self.jobs[upstream].after)
        return seen

    def downstream(self, job: str) -> list[str]:
        """The jobs that come directly after `job`, in file order."""
        return [name for name, other in self.jobs.items() if job in other.after]

    def policy(self, job: str) -> RetryPolicy:
        return self.jobs[job].retry or self.retry

    def trigger(self, job: str) -> CronTrigger | None:
        cron = self.jobs[job].cron
        return None if cron is None else CronTrigger.from_crontab(cron, timezone=ZoneInfo(self.timezone))

    def next_fire(self, job: str, after: datetime) -> datetime | None:
        trigger = self.trigger(job)
        fire: datetime | None = None if trigger is None else trigger.get_next_fire_time(None, after)
        return fire

    def expected_interval_s(self, job: str, now: datetime) -> float | None:
        """Within how long the job should succeed again: its cron period (or, for a job that only follows
        others, its upstreams'), plus its time limit. None: nothing schedules it (watch only)."""
        periods = []
        trigger = self.trigger(job)
        if trigger is not None:
            first = trigger.get_next_fire_time(None, now)
            second = trigger.get_next_fire_time(first, first)
            periods.append((second - first).total_seconds())
        periods += [p for up in self.jobs[job].after if (p := self.expected_interval_s(up, now)) is not None]
        return max(periods) + self.jobs[job].timeout_s if periods else None


def idle_reason(job: JobSchedule, settings: Settings) -> str | None:
    """Why a job does not run with these settings (disabled, or a required setting unset); None: it runs."""
    if not job.enabled:
        return "disabled in the schedules file"
    missing = [field for field in job.requires if getattr(settings, field) in (None, "")]
    if missing:
        return "idle until " + ", ".join(field.upper() for field in missing) + " is set"
    return None


class JobInfo(BaseModel):
    name: str
    cron: str | None
    after: list[str] = Field(description="Jobs whose success starts this one.")
    then: list[str] = Field(description="Jobs this one's success starts.")
    watch: str | None = Field(description="The watched folder, resolved; null: none.")
    timeout_s: float
    timezone: str
    entrypoint: str
    description: str
    next_run: datetime | None = Field(description="Next cron fire; null when the job is idle or has no cron.")
    idle: str | None = Field(
        description="Why the job does not run (a required setting unset); null: it runs."
    )


def job_infos(config: SchedulerConfig, settings: Settings, now: datetime) -> list[JobInfo]:
    return [
        JobInfo(
            name=name,
            cron=job.cron,
            after=job.after,
            then=config.downstream(name),
            watch=None if job.watch is None else str(getattr(settings, job.watch)),
            timeout_s=job.timeout_s,
            timezone=config.timezone,
            entrypoint=job.entrypoint,
            description=job.description,
            next_run=None if (idle := idle_reason(job, settings)) else config.next_fire(name, now),
            idle=idle,
        )
        for name, job in config.jobs.items()
    ]
