"""What the kit composer reads from Postgres: every product with its specs, and the offers it can sell."""

from __future__ import annotations

from typing import Any

import psycopg

from common.schemas import Offer, Product


def catalog_with_offers(
    conn: psycopg.Connection[Any], *, in_stock_only: bool = True
) -> tuple[list[Product], list[Offer]]:
    """All products (kit components resolve against them even when sold out alone) and their offers:
    by default only priced offers with stock, since a kit is only composed from what can be shipped."""
    products = conn.execute(
        "SELECT id::text AS id, category, brand, model, title, specs FROM products ORDER BY id"
    ).fetchall()
    offers = conn.execute(
        """
        SELECT product_id::text AS product_id, distributor, sku, price_brl::float8 AS price_brl, stock,
               lead_time_days, updated_at
          FROM offers
         WHERE NOT %(in_stock_only)s OR (stock > 0 AND price_brl IS NOT NULL)
         ORDER BY product_id, distributor, sku
        """,
        {"in_stock_only": in_stock_only},
    ).fetchall()
    return [Product.model_validate(row) for row in products], [Offer.model_validate(row) for row in offers]
