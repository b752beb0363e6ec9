"""Offers → the short factual passages of `helio-pricing`, one per (product, distributor offer).

Pure. One point per offer rather than one per product listing all its offers: a price or stock change
rewrites one small point, a passage states one fact an answer can cite as it is ("… na Distribuidora X:
R$ 1.234,56, estoque 12 un., atualizado em 2026-11-20."), and distributor, price and stock stay
filterable payload fields. A product's offers share its catalog vector (the job reuses it rather than
encoding again), so a dense search brings them up side by side, and each passage's lexical vector
(distributor, SKU) tells them apart.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kernel.schemas import Offer, Product

PASSAGE_NAMESPACE = uuid.UUID("0b8d3f6e-2a41-4c7b-8e59-7d7a1c9e4f20")
INDEX_STATE_FIELDS = ("content_hash", "catalog_hash")


@dataclass(frozen=True)
class PricingPassage:
    id: str  # uuid5 of (distributor, sku): an offer keeps its point while its facts change
    product_id: str
    text: str
    payload: dict[str, Any]
    content_hash: str  # of the payload (which holds the text)


def brl(value: float) -> str:
    """1234.5 → "R$ 1.234,50"."""
    return "R$ " + f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


def passage_text(product: Product, offer: Offer) -> str:
    price = brl(offer.price_brl) if offer.price_brl is not None else "sem preço informado"
    stock = f"estoque {offer.stock} un." if offer.stock > 0 else "sem estoque"
    if offer.stock <= 0 and offer.lead_time_days:
        stock += f" (prazo de {offer.lead_time_days} dias)"
    updated = f", atualizado em {offer.updated_at.date().isoformat()}" if offer.updated_at else ""
    where = f"{product.title} ({product.brand}, SKU {offer.sku}) na {offer.distributor}"
    return f"{where}: {price}, {stock}{updated}".removesuffix(".") + "."  # "12 un." ends it already


def passage_id(distributor: str, sku: str) -> str:
    """An offer's point: it keeps it while its facts change."""
    return str(uuid.uuid5(PASSAGE_NAMESPACE, f"{distributor}\x1f{sku}"))


def pricing_passage(product: Product, offer: Offer) -> PricingPassage:
    text = passage_text(product, offer)
    payload = {
        "product_id": product.id,
        "title": product.title,
        "brand": product.brand,
        "category": product.category,
        "distributor": offer.distributor,
        "sku": offer.sku,
        "price_brl": offer.price_brl,
        "stock": offer.stock,
        "in_stock": offer.stock > 0,
        "lead_time_days": offer.lead_time_days,
        "updated_at": offer.updated_at.isoformat() if offer.updated_at else None,
        "text": text,
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()[:32]
    return PricingPassage(
        id=passage_id(offer.distributor, offer.sku),
        product_id=product.id,
        text=text,
        payload=payload,
        content_hash=digest,
    )


def pricing_passages(products: Iterable[Product], offers: Iterable[Offer]) -> list[PricingPassage]:
    """Every offer whose product is known, as a passage, in offer order."""
    by_id = {product.id: product for product in products}
    return [pricing_passage(by_id[o.product_id], o) for o in offers if o.product_id in by_id]


@dataclass
class PricingPlan:
    to_write: list[PricingPassage] = field(default_factory=list)
    to_delete: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    no_vector: int = 0  # passages skipped: their product has no catalog vector yet


def plan_pricing(
    passages: Iterable[PricingPassage],
    stored: Mapping[str, Mapping[str, Any]],
    catalog_hashes: Mapping[str, str],
) -> PricingPlan:
    """Write a passage that is new, whose facts changed, or whose product's catalog vector changed
    (`catalog_hashes`: product id → a hash of its catalog point's text and models); delete the points of
    offers that left. A product missing from `catalog_hashes` has no vector to reuse: its passages wait
    for a later run (and an old point of theirs leaves, rather than show stale facts)."""
    plan = PricingPlan()
    seen: set[str] = set()
    for passage in passages:
        catalog_hash = catalog_hashes.get(passage.product_id)
        if catalog_hash is None:
            plan.no_vector += 1
            continue
        seen.add(passage.id)
        state = stored.get(passage.id)
        if state is None:
            plan.added += 1
        elif state.get("content_hash") != passage.content_hash or state.get("catalog_hash") != catalog_hash:
            plan.updated += 1
        else:
            plan.unchanged += 1
            continue
        plan.to_write.append(passage)
    plan.to_delete = sorted(set(stored) - seen)
    return plan
