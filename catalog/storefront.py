"""The catalog as the storefront (Medusa) shows it: one storefront product per catalog product, one
variant per distributor that prices it (at its lower price where it lists the product twice), and the
hash that says whether it changed since it was published.

A variant per distributor, not one variant with the cheapest price: each distributor has its own price,
stock and lead time, a shopper may pick the one that delivers sooner, and the order must name who ships
it, which is what the ERP receives. Each variant's stock is an inventory level at its distributor's stock
location (one location per distributor). A product no distributor prices has nothing to sell: it is not
published (and one published before is unpublished)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from kernel.schemas import Category, Offer, Product
from kernel.text import fold

CURRENCY = "brl"
DISTRIBUTOR_OPTION = "Distribuidor"
CATEGORY_NAMES: dict[str, str] = {
    "module": "Módulos fotovoltaicos",
    "inverter": "Inversores",
    "microinverter": "Microinversores",
    "hybrid_inverter": "Inversores híbridos",
    "battery": "Baterias",
    "charge_controller": "Controladores de carga",
    "kit": "Kits fotovoltaicos",
    "structure": "Estruturas de fixação",
    "string_box": "String boxes",
    "cable": "Cabos",
    "connector": "Conectores",
}
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


class StorefrontVariant(BaseModel):
    sku: str = Field(description="Unique in the store: the distributor and its own SKU.")
    distributor: str
    price_brl: float = Field(gt=0)
    stock: int = Field(ge=0)
    lead_time_days: int = Field(ge=0)


class StorefrontProduct(BaseModel):
    product_id: str = Field(description="The catalog's id, kept in the Medusa product's metadata.")
    handle: str
    title: str
    description: str
    category: Category
    brand: str
    metadata: dict[str, Any]
    variants: list[StorefrontVariant] = Field(min_length=1)

    def content_hash(self) -> str:
        """Equal when nothing the storefront shows changed: a publish run skips the product then."""
        content = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(content.encode()).hexdigest()


def slug(text: str) -> str:
    return _NOT_SLUG.sub("-", fold(text)).strip("-")


def location_name(distributor: str) -> str:
    return f"Distribuidor {distributor}"


def storefront_product(product: Product, offers: Iterable[Offer]) -> StorefrontProduct | None:
    """The storefront's product, or None when no distributor prices it."""
    # A distributor listing the product under two SKUs sells it at its lower price: one variant each.
    best: dict[str, Offer] = {}
    for offer in sorted(offers, key=lambda o: (o.distributor, o.price_brl or 0, o.sku)):
        if offer.price_brl is not None and offer.price_brl > 0:
            best.setdefault(offer.distributor, offer)
    variants = [
        StorefrontVariant(
            sku=f"{offer.distributor}:{offer.sku}",
            distributor=offer.distributor,
            price_brl=round(offer.price_brl or 0, 2),
            stock=max(offer.stock, 0),
            lead_time_days=max(offer.lead_time_days, 0),
        )
        for offer in best.values()
    ]
    if not variants:
        return None
    specs = {key: value for key, value in sorted(product.specs.items()) if _flat(value)}
    return StorefrontProduct(
        product_id=product.id,
        # The catalog id's start keeps two products whose brand and model fold alike apart.
        handle=f"{slug(f'{product.brand} {product.model}')}-{product.id[:8]}",
        title=product.title,
        description=_description(product),
        category=product.category,
        brand=product.brand,
        metadata={"catalog_product_id": product.id, "brand": product.brand, "model": product.model, **specs},
        variants=variants,
    )


def _flat(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _description(product: Product) -> str:
    facts = [f"{CATEGORY_NAMES[product.category]} {product.brand}, modelo {product.model}."]
    if isinstance(power := product.specs.get("power_w"), int | float):
        facts.append(f"Potência: {power:g} W.")
    return " ".join(facts)
