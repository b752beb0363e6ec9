-- ERP state: stock and price lists per offer, orders and their outbox towards the ERP, homologação status,
-- rejects, and one watermark per sync stream. Idempotent: safe to apply on every start.
-- Every ERP record keeps the ERP's `version`; an update whose version is not above it is ignored.

-- ERP view of a distributor SKU (matches offers by (distributor, sku)); offers.stock follows it.
CREATE TABLE IF NOT EXISTS erp_products (
    distributor  text NOT NULL,
    sku          text NOT NULL,
    stock        integer NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      bigint NOT NULL,
    synced_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (distributor, sku)
);

-- Every named price list (B1, B3, …); the offer list (erp_store.OFFER_PRICE_LIST) also sets offers.price_brl.
CREATE TABLE IF NOT EXISTS price_lists (
    distributor  text NOT NULL,
    sku          text NOT NULL,
    price_list   text NOT NULL,
    price_brl    numeric(14, 2) NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      bigint NOT NULL,
    synced_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (distributor, sku, price_list)
);

-- ERP payloads that could not be applied (invalid, or for an offer the catalog does not have), once each.
CREATE TABLE IF NOT EXISTS erp_rejects (
    id             bigserial PRIMARY KEY,
    kind           text NOT NULL,   -- product, price, order, homologacao
    record_key     text NOT NULL,   -- e.g. "distributor/sku", the order id, or "?" when unreadable
    raw            jsonb NOT NULL,
    reason         text NOT NULL,
    raw_hash       text NOT NULL,
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, raw_hash, reason)
);

-- Platform orders. placed_at: when the order was first seen placed (a homologação case opens then).
CREATE TABLE IF NOT EXISTS orders (
    order_id       text PRIMARY KEY,
    erp_order_id   text,
    status         text NOT NULL,
    customer_name  text,
    consumer_unit  jsonb,
    items          jsonb NOT NULL DEFAULT '[]'::jsonb,
    total_brl      numeric(14, 2),
    updated_at     timestamptz NOT NULL,
    version        bigint NOT NULL,
    placed_at      timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS orders_placed_idx ON orders (placed_at) WHERE placed_at IS NOT NULL;

-- Orders waiting to reach the ERP: written with the order, in its transaction; sent with its
-- idempotency key, so a resend after a crash is the same ERP order.
CREATE TABLE IF NOT EXISTS order_outbox (
    id               bigserial PRIMARY KEY,
    idempotency_key  text NOT NULL UNIQUE,
    order_id         text NOT NULL REFERENCES orders (order_id),
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending',  -- pending, sent, failed (refused by the ERP: 4xx)
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    erp_order_id     text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX IF NOT EXISTS order_outbox_pending_idx ON order_outbox (id) WHERE status = 'pending';

CREATE TABLE IF NOT EXISTS homologacao_status (
    order_id    text PRIMARY KEY,
    status      text NOT NULL,
    detail      text,
    updated_at  timestamptz NOT NULL,
    version     bigint NOT NULL,
    synced_at   timestamptz NOT NULL DEFAULT now()
);

-- Where each ERP sync stream resumes (`updated_since`, inclusive); moved in the transaction that
-- stores a page, so a crash never skips a page nor keeps half of one.
CREATE TABLE IF NOT EXISTS erp_watermarks (
    stream         text PRIMARY KEY,
    updated_since  timestamptz NOT NULL,
    moved_at       timestamptz NOT NULL DEFAULT now()
);
