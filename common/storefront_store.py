"""What was published to the storefront, kept in Postgres: which Medusa product (and variants) each
catalog product is, the content hash last sent, whether it is on sale; and the products Medusa refused."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from common.rejects import keep_rejects

SCHEMA = "storefront.sql"  # applied by `postgres.migrate(conn, SCHEMA)`


@dataclass(frozen=True)
class Published:
    product_id: str
    medusa_product_id: str
    option_id: str
    variants: dict[str, dict[str, str]]  # distributor → {variant_id, inventory_item_id}
    content_hash: str
    status: str  # published | unpublished


@dataclass(frozen=True)
class StorefrontReject:
    product_id: str
    content_hash: str
    reason: str
    payload: dict[str, Any]


def published_products(conn: psycopg.Connection[Any]) -> dict[str, Published]:
    rows = conn.execute(
        "SELECT product_id::text AS product_id, medusa_product_id, option_id, variants, content_hash, status"
        " FROM storefront_products"
    ).fetchall()
    return {row["product_id"]: Published(**row) for row in rows}


def record_published(conn: psycopg.Connection[Any], rows: Sequence[Published], *, run_id: int) -> None:
    """Each row as it now stands in Medusa; committed with the caller's transaction."""
    if not rows:
        return
    with conn.cursor() as cur:
        cur.executemany(
            """
            INSERT INTO storefront_products (product_id, medusa_product_id, option_id, variants, content_hash,
                                             status, first_published_run, last_changed_run)
            VALUES (%(product_id)s, %(medusa_product_id)s, %(option_id)s, %(variants)s, %(content_hash)s,
                    %(status)s, %(run_id)s, %(run_id)s)
            ON CONFLICT (product_id) DO UPDATE SET
                medusa_product_id = EXCLUDED.medusa_product_id, option_id = EXCLUDED.option_id,
                variants = EXCLUDED.variants, content_hash = EXCLUDED.content_hash, status = EXCLUDED.status,
                last_changed_run = EXCLUDED.last_changed_run, updated_at = now()
            """,
            [{**asdict(row), "variants": Jsonb(row.variants), "run_id": run_id} for row in rows],
        )


def record_rejects(conn: psycopg.Connection[Any], rejects: Sequence[StorefrontReject], *, run_id: int) -> int:
    rows = [
        {
            **asdict(reject),
            "payload": Jsonb(reject.payload),
            "first_seen_run": run_id,
            "last_seen_run": run_id,
        }
        for reject in rejects
    ]
    return keep_rejects(conn, "storefront_rejects", rows, conflict=("product_id", "content_hash"))
