-- Knowledge-base documents that could not be indexed. Idempotent: safe to apply on every start.
-- One row per (collection, source, content, reason): the same bad file seen again only moves last_seen_run.
CREATE TABLE IF NOT EXISTS document_rejects (
    id              bigserial PRIMARY KEY,
    collection      text NOT NULL,
    source          text NOT NULL,
    content_hash    text NOT NULL,
    reason          text NOT NULL,
    detail          text NOT NULL,
    first_seen_run  bigint,
    last_seen_run   bigint,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (collection, source, content_hash, reason)
);
