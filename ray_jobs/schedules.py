"""The scheduler's typed config (`ray_jobs/schedules.yaml`): jobs, cron schedules, retry policy.

Cron expressions are validated when the file loads (APScheduler's crontab parser, the one that fires
them), so a typo fails at start, not at 02:00.
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
    cron: str = Field(description="Five-field crontab, in the scheduler's timezone.")
    entrypoint: str = Field(description="Shell command the Ray job runs, as for `ray job submit`.")
    description: str = ""
    requires: list[str] = Field(
        default_factory=list,
        description="Settings that must be set for the job to run (e.g. erp_url); unset: the job is idle.",
    )
    retry: RetryPolicy | None = Field(default=None, description="Overrides the scheduler's policy.")
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        CronTrigger.from_crontab(value)
        return value


class SchedulerConfig(YamlConfig):
    timezone: str = Field(default="America/Sao_Paulo", description="IANA zone the cron fields are in.")
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    jobs: dict[str, JobSchedule] = Field(default_factory=dict)
    poll_s: float = Field(default=2.0, gt=0, description="How often a running job's status is read.")
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
            unknown = [field for field in job.requires if field not in Settings.model_fields]
            if unknown:
                raise ValueError(f"job {name!r} requires unknown settings {unknown}")
        return self

    def policy(self, job: str) -> RetryPolicy:
        return self.jobs[job].retry or self.retry

    def trigger(self, job: str) -> CronTrigger:
        return CronTrigger.from_crontab(self.jobs[job].cron, timezone=ZoneInfo(self.timezone))

    def next_fire(self, job: str, after: datetime) -> datetime | None:
        fire: datetime | None = self.trigger(job).get_next_fire_time(None, after)
        return fire


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
    cron: str
    timezone: str
    entrypoint: str
    description: str
    next_run: datetime | None = Field(description="Next cron fire; null when the job is idle.")
    idle: str | None = Field(
        description="Why the job does not run (a required setting unset); null: it runs."
    )


def job_infos(config: SchedulerConfig, settings: Settings, now: datetime) -> list[JobInfo]:
    return [
        JobInfo(
            name=name,
            cron=job.cron,
            timezone=config.timezone,
            entrypoint=job.entrypoint,
            description=job.description,
            next_run=None if (idle := idle_reason(job, settings)) else config.next_fire(name, now),
            idle=idle,
        )
        for name, job in config.jobs.items()
    ]
