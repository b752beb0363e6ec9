-- Catalog, rejects and job runs. Idempotent: safe to apply on every start.
CREATE TABLE IF NOT EXISTS products (
    id          uuid PRIMARY KEY,
    category    text NOT NULL,
    brand       text NOT NULL,
    model       text NOT NULL,
    title       text NOT NULL,
    specs       jsonb NOT NULL DEFAULT '{}'::jsonb,
    row_hash    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS products_category_idx ON products (category);

CREATE TABLE IF NOT EXISTS offers (
    distributor     text NOT NULL,
    sku             text NOT NULL,
    product_id      uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    source_file     text NOT NULL,
    price_brl       numeric(14, 2),
    stock           integer NOT NULL,
    lead_time_days  integer NOT NULL,
    row_hash        text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (distributor, sku)
);
CREATE INDEX IF NOT EXISTS offers_product_idx ON offers (product_id);

CREATE TABLE IF NOT EXISTS feed_rejects (
    id              bigserial PRIMARY KEY,
    distributor     text NOT NULL,
    source_file     text NOT NULL,
    line            integer NOT NULL,
    raw             text NOT NULL,
    reason          text NOT NULL,
    raw_hash        text NOT NULL,
    first_seen_run  bigint,
    last_seen_run   bigint,
    UNIQUE (distributor, source_file, line, raw_hash, reason)
);

CREATE TABLE IF NOT EXISTS job_runs (
    id           bigserial PRIMARY KEY,
    job          text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    status       text NOT NULL DEFAULT 'running',
    counts       jsonb NOT NULL DEFAULT '{}'::jsonb,
    error        text
);
CREATE INDEX IF NOT EXISTS job_runs_job_idx ON job_runs (job, started_at DESC);
-- The Ray Job Submission id a scheduled run was submitted as (null when run by hand), so the scheduler's
-- history finds the job's own counts.
ALTER TABLE job_runs ADD COLUMN IF NOT EXISTS submission_id text;
CREATE INDEX IF NOT EXISTS job_runs_submission_idx ON job_runs (submission_id);
