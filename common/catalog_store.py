"""Catalog tables in Postgres: read what is stored, write a computed change set in one transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from common.postgres import fetch_one
from common.rejects import keep_rejects, rejected_line
from kernel.schemas import Offer, Product, RejectedRow

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
    """Keep every rejected feed row with its reason, once; returns how many rejects are new."""
    rows = [
        {
            "distributor": r.distributor,
            "source_file": r.source_file,
            **rejected_line(r.line, r.raw, r.reason, run_id),
        }
        for r in rejects
    ]
    return keep_rejects(
        conn, "feed_rejects", rows, conflict=("distributor", "source_file", "line", "raw_hash", "reason")
    )


def catalog_for_index(
    conn: psycopg.Connection[Any], *, product_ids: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Each product (or each of `product_ids` that exists) with what search shows of its offers: the
    cheapest in-stock offer, who sells it."""
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
         WHERE %(all)s OR p.id = ANY(%(ids)s::uuid[])
         ORDER BY p.id
        """,
        {"all": product_ids is None, "ids": list(product_ids or [])},
    ).fetchall()


def pending_offer_changes(conn: psycopg.Connection[Any], *, limit: int) -> list[dict[str, Any]]:
    """The oldest changes of the offers change feed not yet applied to the index (see schema.sql)."""
    return conn.execute(
        "SELECT id, product_id::text AS product_id, distributor, sku, changed_at FROM offer_changes "
        "WHERE applied_at IS NULL ORDER BY id LIMIT %s",
        (limit,),
    ).fetchall()


def mark_offer_changes_applied(conn: psycopg.Connection[Any], *, ids: Sequence[int]) -> None:
    with conn.transaction():
        conn.execute("UPDATE offer_changes SET applied_at = now() WHERE id = ANY(%s)", (list(ids),))


def offer_change_backlog(conn: psycopg.Connection[Any]) -> tuple[int, float]:
    """(changes not yet applied to the index, seconds the oldest of them has waited: 0 when caught up)."""
    row = fetch_one(
        conn,
        "SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - min(changed_at)), 0)::float8 "
        "FROM offer_changes WHERE applied_at IS NULL",
    )
    assert row is not None
    pending, lag = row
    return int(pending), max(0.0, float(lag))


def catalog_version(conn: psycopg.Connection[Any]) -> tuple[Any, ...]:
    """Changes whenever an offer or a product does: a cheap test of whether a catalog copy is current."""
    row = fetch_one(
        conn,
        "SELECT (SELECT max(id) FROM offer_changes), (SELECT max(updated_at) FROM products), "
        "(SELECT count(*) FROM products)",
    )
    assert row is not None
    return row


def database_now(conn: psycopg.Connection[Any]) -> datetime:
    """The database's clock (the one `applied_at` is stamped with), outside any transaction's start time."""
    row = fetch_one(conn, "SELECT clock_timestamp()")
    assert row is not None
    moment: datetime = row[0]
    return moment


def reapply_offer_changes_since(conn: psycopg.Connection[Any], *, since: datetime) -> int:
    """A batch writer of the index (the embedding job, the pricing sync) read the catalog at `since`
    and may have overwritten what the change feed applied meanwhile: those changes apply again."""
    with conn.transaction():
        cursor = conn.execute("UPDATE offer_changes SET applied_at = NULL WHERE applied_at >= %s", (since,))
    return cursor.rowcount


def forget_applied_offer_changes(conn: psycopg.Connection[Any], *, older_than_s: float) -> int:
    with conn.transaction():
        cursor = conn.execute(
            "DELETE FROM offer_changes WHERE applied_at < now() - make_interval(secs => %s)",
            (older_than_s,),
        )
    return cursor.rowcount
