-- The scheduler's run history. Idempotent: safe to apply on every start.
CREATE TABLE IF NOT EXISTS scheduled_runs (
    id             bigserial PRIMARY KEY,
    job            text NOT NULL,
    trigger        text NOT NULL,
    attempt        integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    status         text NOT NULL,
    submission_id  text UNIQUE,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    error          text
);
-- Never two runs of a job at once, even with two schedulers or a manual trigger racing a cron fire.
CREATE UNIQUE INDEX IF NOT EXISTS scheduled_runs_one_running ON scheduled_runs (job) WHERE status = 'running';
CREATE INDEX IF NOT EXISTS scheduled_runs_started_idx ON scheduled_runs (started_at DESC);
-- The allowed triggers and statuses, replaced as a whole so a database made by an older version gains
-- the new ones ('upstream', 'watch'; 'timed_out').
ALTER TABLE scheduled_runs DROP CONSTRAINT IF EXISTS scheduled_runs_trigger_check;
ALTER TABLE scheduled_runs ADD CONSTRAINT scheduled_runs_trigger_check
    CHECK (trigger IN ('cron', 'manual', 'retry', 'upstream', 'watch'));
ALTER TABLE scheduled_runs DROP CONSTRAINT IF EXISTS scheduled_runs_status_check;
ALTER TABLE scheduled_runs ADD CONSTRAINT scheduled_runs_status_check
    CHECK (status IN ('running', 'succeeded', 'failed', 'timed_out', 'skipped'));
