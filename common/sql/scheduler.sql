-- The scheduler's run history. Idempotent: safe to apply on every start.
CREATE TABLE IF NOT EXISTS scheduled_runs (
    id             bigserial PRIMARY KEY,
    job            text NOT NULL,
    trigger        text NOT NULL CHECK (trigger IN ('cron', 'manual', 'retry')),
    attempt        integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    status         text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
    submission_id  text UNIQUE,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    error          text
);
-- Never two runs of a job at once, even with two schedulers or a manual trigger racing a cron fire.
CREATE UNIQUE INDEX IF NOT EXISTS scheduled_runs_one_running ON scheduled_runs (job) WHERE status = 'running';
CREATE INDEX IF NOT EXISTS scheduled_runs_started_idx ON scheduled_runs (started_at DESC);
