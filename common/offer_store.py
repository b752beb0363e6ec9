"""What the kit composer reads from Postgres: every product with its specs, and the offers it can sell."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from kernel.schemas import Offer, Product


def catalog_with_offers(
    conn: psycopg.Connection[Any], *, in_stock_only: bool = True, product_ids: Sequence[str] | None = None
) -> tuple[list[Product], list[Offer]]:
    """All products (kit components resolve against them even when sold out alone), or those of
    `product_ids` that exist, and their offers: by default only priced offers with stock, since a kit is
    only composed from what can be shipped."""
    chosen = {"all": product_ids is None, "ids": list(product_ids or [])}
    products = conn.execute(
        "SELECT id::text AS id, category, brand, model, title, specs FROM products "
        "WHERE %(all)s OR id = ANY(%(ids)s::uuid[]) ORDER BY id",
        chosen,
    ).fetchall()
    offers = conn.execute(
        """
        SELECT product_id::text AS product_id, distributor, sku, price_brl::float8 AS price_brl, stock,
               lead_time_days, updated_at
          FROM offers
         WHERE (NOT %(in_stock_only)s OR (stock > 0 AND price_brl IS NOT NULL))
           AND (%(all)s OR product_id = ANY(%(ids)s::uuid[]))
         ORDER BY product_id, distributor, sku
        """,
        {"in_stock_only": in_stock_only, **chosen},
    ).fetchall()
    return [Product.model_validate(row) for row in products], [Offer.model_validate(row) for row in offers]
