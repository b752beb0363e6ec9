"""Turn accepted feed rows into one catalog: one product per physical item, one offer per distributor SKU.

Pure: the rules (which listing describes a product, which SKU listing stands, what a row's hash is); the
ETL applies them a listing at a time and lets Postgres hold the catalog in between.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from catalog.feed_readers import RejectCode
from catalog.identity import product_id
from kernel.schemas import FeedRecord, Offer, Product, RejectedRow


def row_hash(values: Mapping[str, Any]) -> str:
    """Stable content hash of a row: what decides new / updated / unchanged."""
    encoded = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()[:32]


@dataclass
class MergedCatalog:
    products: dict[str, Product] = field(default_factory=dict)
    offers: dict[tuple[str, str], Offer] = field(default_factory=dict)  # (distributor, sku) -> offer
    offer_files: dict[tuple[str, str], str] = field(default_factory=dict)
    rejects: list[RejectedRow] = field(default_factory=list)


def _completeness(record: FeedRecord, distributor_rank: Mapping[str, int]) -> tuple[int, int, str, str]:
    # The most complete description wins; ties go to the distributor listed first in feeds.yaml.
    return (
        -len(record.specs),
        distributor_rank.get(record.distributor, len(distributor_rank)),
        record.distributor,
        record.sku,
    )


def listing_offer(record: FeedRecord) -> Offer:
    """The offer a listing makes, for the product its brand and model name."""
    return Offer(
        product_id=product_id(record.brand, record.model),
        distributor=record.distributor,
        sku=record.sku,
        price_brl=record.price_brl,
        stock=record.stock,
        lead_time_days=record.lead_time_days,
    )


def repeated_sku(record: FeedRecord, first_file: str) -> RejectedRow:
    """The reject of a listing whose SKU its distributor already listed (the first listing stands)."""
    return RejectedRow(
        distributor=record.distributor,
        source_file=record.source_file,
        line=record.line,
        raw=record.model_dump_json(),
        reason=f"{RejectCode.DUPLICATE}: SKU {record.sku!r} already listed in {first_file}",
    )


def merge_listings(listings: Sequence[FeedRecord], distributor_order: Sequence[str]) -> Product:
    """One product from every listing of it: the most complete describes it, the others fill the spec
    keys it lacks."""
    rank = {name: position for position, name in enumerate(distributor_order)}
    ordered = sorted(listings, key=lambda r: _completeness(r, rank))
    best = ordered[0]
    specs: dict[str, Any] = {}
    for listing in reversed(ordered):
        specs.update(listing.specs)
    return Product(
        id=product_id(best.brand, best.model),
        category=best.category,
        brand=best.brand,
        model=best.model,
        title=best.title,
        specs=specs,
    )


def merge_feed_records(records: Iterable[FeedRecord], distributor_order: Sequence[str]) -> MergedCatalog:
    """Group rows by normalised brand + model, in memory: for tests and in-process tools. The ETL does the
    same a listing at a time through Postgres (`common.catalog_store.CatalogLoad`)."""
    merged = MergedCatalog()
    by_product: dict[str, list[FeedRecord]] = {}
    for record in records:
        key = (record.distributor, record.sku)
        if key in merged.offers:
            merged.rejects.append(repeated_sku(record, merged.offer_files[key]))
            continue
        offer = listing_offer(record)
        by_product.setdefault(offer.product_id, []).append(record)
        merged.offers[key] = offer
        merged.offer_files[key] = record.source_file
    for pid, listings in by_product.items():
        merged.products[pid] = merge_listings(listings, distributor_order)
    return merged


def product_hash(product: Product) -> str:
    return row_hash(product.model_dump())


def offer_hash(offer: Offer, source_file: str) -> str:
    return row_hash({**offer.model_dump(exclude={"updated_at"}), "source_file": source_file})
