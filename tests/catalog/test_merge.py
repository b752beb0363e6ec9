"""Merging listings into products and offers, and diffing against the stored catalog."""

from __future__ import annotations

import pytest

from catalog.merge import diff_catalog, merge_feed_records, offer_hash, product_hash
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


def stored_state(records: list[FeedRecord]) -> tuple[dict[str, str], dict[tuple[str, str], tuple[str, str]]]:
    merged = merge_feed_records(records, ["alfa", "beta"])
    products = {pid: product_hash(p) for pid, p in merged.products.items()}
    offers = {
        key: (offer_hash(o, merged.offer_files[key]), merged.offer_files[key])
        for key, o in merged.offers.items()
    }
    return products, offers


BASE = [listing("alfa", "A-1", "Jinko", "JKM550"), listing("beta", "B-1", "Jinko", "JKM550")]


@pytest.mark.parametrize(
    ("incoming", "files_read", "expected"),
    [
        (
            BASE,
            {("alfa", "alfa/feed.csv"), ("beta", "beta/feed.csv")},
            {"alfa": (0, 0, 1, 0), "beta": (0, 0, 1, 0)},
        ),
        (
            [listing("alfa", "A-1", "Jinko", "JKM550", price_brl=470.0), BASE[1]],
            {("alfa", "alfa/feed.csv"), ("beta", "beta/feed.csv")},
            {"alfa": (0, 1, 0, 0), "beta": (0, 0, 1, 0)},
        ),
        (
            [BASE[0]],  # beta's file was read and no longer lists B-1
            {("alfa", "alfa/feed.csv"), ("beta", "beta/feed.csv")},
            {"alfa": (0, 0, 1, 0), "beta": (0, 0, 0, 1)},
        ),
        (
            [BASE[0]],  # beta's file was unreadable this time: its offer stays
            {("alfa", "alfa/feed.csv")},
            {"alfa": (0, 0, 1, 0)},
        ),
        (
            [*BASE, listing("beta", "B-2", "Jinko", "JKM600")],
            {("alfa", "alfa/feed.csv"), ("beta", "beta/feed.csv")},
            {"alfa": (0, 0, 1, 0), "beta": (1, 0, 1, 0)},
        ),
    ],
    ids=["unchanged", "price-changed", "offer-removed", "unreadable-file-keeps-offers", "new-offer"],
)
def test_diff_against_stored_catalog(
    incoming: list[FeedRecord], files_read: set[tuple[str, str]], expected: dict[str, tuple[int, ...]]
) -> None:
    products, offers = stored_state(BASE)
    diff = diff_catalog(
        merge_feed_records(incoming, ["alfa", "beta"]),
        stored_product_hashes=products,
        stored_offers=offers,
        files_read=files_read,
    )
    got = {
        d: (c["new"], c["updated"], c["unchanged"], c["removed"]) for d, c in diff.per_distributor().items()
    }
    assert got == expected
    assert diff.is_empty == all(v[0] == v[1] == v[3] == 0 for v in expected.values())


def test_a_changed_spec_marks_the_product_changed() -> None:
    products, offers = stored_state(BASE)
    changed = [listing("alfa", "A-1", "Jinko", "JKM550", specs={"power_w": 555.0}), BASE[1]]
    diff = diff_catalog(
        merge_feed_records(changed, ["alfa", "beta"]),
        stored_product_hashes=products,
        stored_offers=offers,
        files_read=set(),
    )
    assert [p.model for p in diff.changed_products] == ["JKM550"]
    assert diff.new_products == []
