"""Turn accepted feed rows into one catalog: one product per physical item, one offer per distributor SKU.

Pure: the ETL job calls `merge_feed_records`, then `diff_catalog` against what Postgres holds.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
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


def merge_feed_records(records: Iterable[FeedRecord], distributor_order: Sequence[str]) -> MergedCatalog:
    """Group rows by normalised brand + model. Specs of the other listings fill keys the best one lacks."""
    rank = {name: position for position, name in enumerate(distributor_order)}
    merged = MergedCatalog()
    by_product: dict[str, list[FeedRecord]] = {}
    for record in records:
        key = (record.distributor, record.sku)
        if key in merged.offers:
            first_file = merged.offer_files[key]
            merged.rejects.append(
                RejectedRow(
                    distributor=record.distributor,
                    source_file=record.source_file,
                    line=record.line,
                    raw=record.model_dump_json(),
                    reason=f"{RejectCode.DUPLICATE}: SKU {record.sku!r} already listed in {first_file}",
                )
            )
            continue
        pid = product_id(record.brand, record.model)
        by_product.setdefault(pid, []).append(record)
        merged.offers[key] = Offer(
            product_id=pid,
            distributor=record.distributor,
            sku=record.sku,
            price_brl=record.price_brl,
            stock=record.stock,
            lead_time_days=record.lead_time_days,
        )
        merged.offer_files[key] = record.source_file
    for pid, listings in by_product.items():
        ordered = sorted(listings, key=lambda r: _completeness(r, rank))
        best = ordered[0]
        specs: dict[str, Any] = {}
        for listing in reversed(ordered):
            specs.update(listing.specs)
        merged.products[pid] = Product(
            id=pid, category=best.category, brand=best.brand, model=best.model, title=best.title, specs=specs
        )
    return merged


def product_hash(product: Product) -> str:
    return row_hash(product.model_dump())


def offer_hash(offer: Offer, source_file: str) -> str:
    return row_hash({**offer.model_dump(exclude={"updated_at"}), "source_file": source_file})


OFFER_OUTCOMES = ("new", "updated", "unchanged", "removed")


@dataclass
class CatalogDiff:
    new_products: list[Product] = field(default_factory=list)
    changed_products: list[Product] = field(default_factory=list)
    new_offers: list[Offer] = field(default_factory=list)
    changed_offers: list[Offer] = field(default_factory=list)
    removed_offers: list[tuple[str, str]] = field(default_factory=list)
    unchanged_offers: dict[str, int] = field(default_factory=dict)  # distributor -> count

    def per_distributor(self) -> dict[str, dict[str, int]]:
        counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for offer in self.new_offers:
            counts[offer.distributor]["new"] += 1
        for offer in self.changed_offers:
            counts[offer.distributor]["updated"] += 1
        for distributor, _sku in self.removed_offers:
            counts[distributor]["removed"] += 1
        for distributor, unchanged in self.unchanged_offers.items():
            counts[distributor]["unchanged"] += unchanged
        return {d: {k: c[k] for k in OFFER_OUTCOMES} for d, c in counts.items()}

    @property
    def is_empty(self) -> bool:
        return not (
            self.new_products
            or self.changed_products
            or self.new_offers
            or self.changed_offers
            or self.removed_offers
        )


def diff_catalog(
    merged: MergedCatalog,
    *,
    stored_product_hashes: Mapping[str, str],
    stored_offers: Mapping[tuple[str, str], tuple[str, str]],  # (distributor, sku) -> (row_hash, file)
    files_read: set[tuple[str, str]],  # (distributor, source_file) read successfully this run
) -> CatalogDiff:
    """What to write. An offer disappears only when the file that listed it was read and no longer has it;
    an unreadable file keeps its offers as they were."""
    diff = CatalogDiff()
    for pid, product in merged.products.items():
        stored = stored_product_hashes.get(pid)
        if stored is None:
            diff.new_products.append(product)
        elif stored != product_hash(product):
            diff.changed_products.append(product)
    for key, offer in merged.offers.items():
        stored_offer = stored_offers.get(key)
        if stored_offer is None:
            diff.new_offers.append(offer)
        elif stored_offer[0] != offer_hash(offer, merged.offer_files[key]):
            diff.changed_offers.append(offer)
        else:
            diff.unchanged_offers[offer.distributor] = diff.unchanged_offers.get(offer.distributor, 0) + 1
    for key, (_hash, source_file) in stored_offers.items():
        if key not in merged.offers and (key[0], source_file) in files_read:
            diff.removed_offers.append(key)
    return diff
