-- Kafka change streams (CDC from the ERP): what each key has applied, and the messages that could not be.
-- Idempotent: safe to apply on every start.

-- The newest change applied per (topic, key), written in the same transaction as the change itself:
-- a message replayed after a crash (applied, offset not yet committed) or arriving after a newer one
-- is skipped. A delete of version N comes after version N itself (`deleted` orders after it).
CREATE TABLE IF NOT EXISTS change_stream_ledger (
    topic        text NOT NULL,
    key          text NOT NULL,
    version      bigint NOT NULL,
    deleted      boolean NOT NULL,
    "partition"  integer NOT NULL,
    "offset"     bigint NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, key)
);

-- Messages that could not be parsed or applied, with the reason; once per message (a replay adds nothing).
CREATE TABLE IF NOT EXISTS change_stream_dead_letters (
    id           bigserial PRIMARY KEY,
    topic        text NOT NULL,
    "partition"  integer NOT NULL,
    "offset"     bigint NOT NULL,
    key          bytea,
    value        bytea,  -- the raw bytes: what failed may not even be text
    reason       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (topic, "partition", "offset")
);
