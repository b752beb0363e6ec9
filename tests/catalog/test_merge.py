"""Merging listings into products and offers (in memory; the ETL's load through Postgres:
tests/common/test_catalog_load.py)."""

from __future__ import annotations

from catalog.merge import merge_feed_records
from kernel.schemas import FeedRecord


def listing(distributor: str, sku: str, brand: str, model: str, **overrides: object) -> FeedRecord:
    values: dict[str, object] = {
        "distributor": distributor,
        "sku": sku,
        "category": "module",
        "brand": brand,
        "model": model,
        "title": f"Módulo {brand} {model}",
        "specs": {"power_w": 550.0},
        "price_brl": 480.0,
        "stock": 10,
        "lead_time_days": 3,
        "source_file": f"{distributor}/feed.csv",
        "line": 2,
    }
    values.update(overrides)
    return FeedRecord.model_validate(values)


def test_same_brand_and_model_from_two_distributors_is_one_product_with_two_offers() -> None:
    merged = merge_feed_records(
        [
            listing("alfa", "A-1", "Canadian Solar", "CS6W-550MS"),
            listing("beta", "B-77", "Canadian Solar", "CS6W-550MS", specs={"power_w": 550.0, "voc_v": 49.6}),
        ],
        ["alfa", "beta"],
    )
    assert len(merged.products) == 1
    assert len(merged.offers) == 2
    (product,) = merged.products.values()
    assert product.specs == {"power_w": 550.0, "voc_v": 49.6}  # the fuller listing describes the product
    assert {offer.product_id for offer in merged.offers.values()} == {product.id}


def test_a_sku_listed_twice_by_one_distributor_keeps_the_first_and_rejects_the_second() -> None:
    merged = merge_feed_records(
        [
            listing("alfa", "A-1", "Jinko", "JKM550", price_brl=500.0),
            listing("alfa", "A-1", "Jinko", "JKM550", price_brl=1.0, source_file="alfa/extra.csv", line=9),
        ],
        ["alfa"],
    )
    assert merged.offers[("alfa", "A-1")].price_brl == 500.0
    assert [(r.source_file, r.line) for r in merged.rejects] == [("alfa/extra.csv", 9)]
    assert merged.rejects[0].reason.startswith("duplicate: SKU 'A-1'")
