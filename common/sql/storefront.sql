-- The catalog as published to the storefront (Medusa): one row per catalog product ever published, with
-- the Medusa ids a later run updates and the content hash that says whether it must.
CREATE TABLE IF NOT EXISTS storefront_products (
    product_id          uuid PRIMARY KEY,
    medusa_product_id   text NOT NULL UNIQUE,
    option_id           text NOT NULL,          -- the product's "Distribuidor" option
    variants            jsonb NOT NULL,         -- distributor → {variant_id, inventory_item_id}
    content_hash        text NOT NULL,          -- of what was last sent (catalog.storefront)
    status              text NOT NULL CHECK (status IN ('published', 'unpublished')),
    first_published_run bigint,
    last_changed_run    bigint,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Products Medusa refused, with its reason; kept once per product and content (common/rejects.py).
CREATE TABLE IF NOT EXISTS storefront_rejects (
    id              bigserial PRIMARY KEY,
    product_id      uuid NOT NULL,
    content_hash    text NOT NULL,
    reason          text NOT NULL,
    payload         jsonb NOT NULL,
    first_seen_run  bigint,
    last_seen_run   bigint,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (product_id, content_hash)
);
