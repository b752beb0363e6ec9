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
-- Every rejects table tells when a reject was first and last seen (common/rejects.py).
ALTER TABLE feed_rejects ADD COLUMN IF NOT EXISTS first_seen_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE feed_rejects ADD COLUMN IF NOT EXISTS last_seen_at timestamptz NOT NULL DEFAULT now();

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

-- The offers change feed: a row per offer added, changed (price, stock, lead time…) or removed, written by
-- a trigger in the transaction that changes the offer, whoever writes it (the feed ETL, the ERP sync, the
-- Kafka consumers), with a NOTIFY at commit. The index syncer (ray_jobs.index_sync) listens, applies the
-- pending rows to the index payloads and pricing passages without re-embedding, and marks them applied;
-- applied rows are kept a day (a batch writer of the index re-applies those applied while it ran).
CREATE TABLE IF NOT EXISTS offer_changes (
    id           bigserial PRIMARY KEY,
    product_id   uuid NOT NULL,
    distributor  text NOT NULL,
    sku          text NOT NULL,
    changed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    applied_at   timestamptz
);
CREATE INDEX IF NOT EXISTS offer_changes_pending_idx ON offer_changes (id) WHERE applied_at IS NULL;
CREATE INDEX IF NOT EXISTS offer_changes_applied_idx ON offer_changes (applied_at) WHERE applied_at IS NOT NULL;

CREATE OR REPLACE FUNCTION record_offer_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD IS NOT DISTINCT FROM NEW THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO offer_changes (product_id, distributor, sku) VALUES (OLD.product_id, OLD.distributor, OLD.sku);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE'
        AND (NEW.product_id, NEW.distributor, NEW.sku) IS DISTINCT FROM (OLD.product_id, OLD.distributor, OLD.sku))
    THEN
        INSERT INTO offer_changes (product_id, distributor, sku) VALUES (NEW.product_id, NEW.distributor, NEW.sku);
    END IF;
    PERFORM pg_notify('offer_changes', '');  -- one notification per transaction: Postgres folds repeats
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER offers_change_feed AFTER INSERT OR UPDATE OR DELETE ON offers
    FOR EACH ROW EXECUTE FUNCTION record_offer_change();
