"""The storefront's view of a catalog product: a variant per distributor that prices it, a handle that is
a slug, flat specs as metadata, and a content hash that moves with what a shopper sees and nothing else."""

from __future__ import annotations

import pytest

from catalog.storefront import slug, storefront_product
from kernel.schemas import Offer, Product

PRODUCT = Product(
    id="3f2c1b0a-0000-5000-8000-000000000001",
    category="module",
    brand="Jinko",
    model="Tiger Neo JKM575N-72HL4",
    title="Módulo Jinko Tiger Neo 575 W",
    specs={"power_w": 575, "efficiency_pct": 22.3, "curve": [1, 2], "bifacial": True},
)


def offer(distributor: str, price: float | None, stock: int = 10) -> Offer:
    return Offer(
        product_id=PRODUCT.id,
        distributor=distributor,
        sku=f"{distributor[:3]}-575",
        price_brl=price,
        stock=stock,
        lead_time_days=3,
    )


def test_a_variant_per_distributor_that_prices_the_product() -> None:
    published = storefront_product(
        PRODUCT, [offer("Sol", 799.9), offer("Aldo", 760.0), offer("Edeltec", None)]
    )
    assert published is not None
    assert [v.sku for v in published.variants] == ["Aldo:Ald-575", "Sol:Sol-575"]  # unpriced: not for sale
    assert published.handle == "jinko-tiger-neo-jkm575n-72hl4-3f2c1b0a"
    assert published.metadata["power_w"] == 575 and "curve" not in published.metadata  # flat values only
    assert published.metadata["catalog_product_id"] == PRODUCT.id
    assert "575 W" in published.description


def test_nothing_to_publish_without_a_price() -> None:
    assert storefront_product(PRODUCT, [offer("Sol", None), offer("Aldo", 0.0)]) is None
    assert storefront_product(PRODUCT, []) is None


@pytest.mark.parametrize(
    ("changed", "moves"),
    [
        ([offer("Sol", 799.9), offer("Aldo", 760.0)], False),
        ([offer("Aldo", 760.0), offer("Sol", 799.9)], False),  # the feed's order is not content
        ([offer("Sol", 789.9), offer("Aldo", 760.0)], True),
        ([offer("Sol", 799.9, stock=0), offer("Aldo", 760.0)], True),
        ([offer("Sol", 799.9)], True),
    ],
)
def test_the_content_hash_moves_with_what_the_shopper_sees(changed: list[Offer], moves: bool) -> None:
    before = storefront_product(PRODUCT, [offer("Sol", 799.9), offer("Aldo", 760.0)])
    after = storefront_product(PRODUCT, changed)
    assert before is not None and after is not None
    assert (before.content_hash() != after.content_hash()) is moves


def test_slug() -> None:
    assert slug("  Inversor  Híbrido 5kW / 220V ") == "inversor-hibrido-5kw-220v"
