"""Catalog tables in Postgres: read what is stored, write a computed change set in one transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import psycopg

from common.schemas import Offer, Product, RejectedRow

ProductRow = tuple[Product, str]  # product, row hash
OfferRow = tuple[Offer, str, str]  # offer, source file, row hash


def stored_product_hashes(conn: psycopg.Connection[Any]) -> dict[str, str]:
    rows = conn.execute("SELECT id::text AS id, row_hash FROM products").fetchall()
    return {row["id"]: row["row_hash"] for row in rows}


def stored_offers(conn: psycopg.Connection[Any]) -> dict[tuple[str, str], tuple[str, str]]:
    rows = conn.execute("SELECT distributor, sku, row_hash, source_file FROM offers").fetchall()
    return {(row["distributor"], row["sku"]): (row["row_hash"], row["source_file"]) for row in rows}


def apply_catalog_changes(
    conn: psycopg.Connection[Any],
    *,
    products: Sequence[ProductRow],
    offers: Sequence[OfferRow],
    removed_offers: Sequence[tuple[str, str]],
) -> int:
    """Upsert products and offers, drop removed offers and the products left without any.

    One transaction: a crash leaves the previous catalog intact. Returns the number of products removed.
    """
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """
            INSERT INTO products (id, category, brand, model, title, specs, row_hash)
            VALUES (%s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (id) DO UPDATE SET
                category = EXCLUDED.category, brand = EXCLUDED.brand, model = EXCLUDED.model,
                title = EXCLUDED.title, specs = EXCLUDED.specs, row_hash = EXCLUDED.row_hash,
                updated_at = now()
            """,
            [
                (p.id, p.category, p.brand, p.model, p.title, json.dumps(p.specs, ensure_ascii=False), h)
                for p, h in products
            ],
        )
        cur.executemany(
            """
            INSERT INTO offers (distributor, sku, product_id, source_file, price_brl, stock, lead_time_days,
                                row_hash)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (distributor, sku) DO UPDATE SET
                product_id = EXCLUDED.product_id, source_file = EXCLUDED.source_file,
                price_brl = EXCLUDED.price_brl, stock = EXCLUDED.stock,
                lead_time_days = EXCLUDED.lead_time_days, row_hash = EXCLUDED.row_hash, updated_at = now()
            """,
            [
                (o.distributor, o.sku, o.product_id, f, o.price_brl, o.stock, o.lead_time_days, h)
                for o, f, h in offers
            ],
        )
        cur.executemany("DELETE FROM offers WHERE distributor = %s AND sku = %s", list(removed_offers))
        cur.execute(
            "DELETE FROM products p WHERE NOT EXISTS (SELECT 1 FROM offers o WHERE o.product_id = p.id)"
        )
        return cur.rowcount


def record_rejects(conn: psycopg.Connection[Any], *, rejects: Sequence[RejectedRow], run_id: int) -> int:
    """Keep every rejected row with its reason; a row rejected again is not stored twice.
    Returns how many rejects are new."""
    before = conn.execute("SELECT count(*) AS n FROM feed_rejects").fetchone()
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """
            INSERT INTO feed_rejects (distributor, source_file, line, raw, reason, raw_hash,
                                      first_seen_run, last_seen_run)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (distributor, source_file, line, raw_hash, reason)
            DO UPDATE SET last_seen_run = EXCLUDED.last_seen_run
            """,
            [
                (
                    r.distributor,
                    r.source_file,
                    r.line,
                    r.raw.replace("\x00", ""),  # Postgres text cannot hold NUL
                    r.reason,
                    hashlib.sha256(r.raw.encode("utf-8", "replace")).hexdigest()[:32],
                    run_id,
                    run_id,
                )
                for r in rejects
            ],
        )
    after = conn.execute("SELECT count(*) AS n FROM feed_rejects").fetchone()
    assert before is not None and after is not None
    return int(after["n"]) - int(before["n"])


def catalog_for_index(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Each product with what search shows of its offers: the cheapest in-stock offer, who sells it."""
    return conn.execute(
        """
        SELECT p.id::text AS id, p.category, p.brand, p.model, p.title, p.specs,
               best.sku, best.lead_time_days,
               CASE WHEN best.in_stock THEN best.price_brl::float8 END AS price_brl,
               coalesce(best.in_stock, false) AS in_stock,
               (SELECT array_agg(DISTINCT o.distributor ORDER BY o.distributor)
                  FROM offers o WHERE o.product_id = p.id) AS distributors
          FROM products p
          LEFT JOIN LATERAL (
                SELECT o.sku, o.price_brl, o.lead_time_days, o.stock > 0 AS in_stock
                  FROM offers o
                 WHERE o.product_id = p.id
                 ORDER BY (o.stock > 0) DESC, o.price_brl ASC NULLS LAST, o.distributor, o.sku
                 LIMIT 1
          ) best ON true
         ORDER BY p.id
        """
    ).fetchall()
