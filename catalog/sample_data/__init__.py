"""Deterministic sample feeds of five distributors: `write_sample(out_dir, seed=…, products=…)`.

The same seed and product count give the same bytes. Files go to out_dir/<distributor>/…, and
out_dir/manifest.json says what was written, including every defect planted (one reject each).
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from pydantic import BaseModel

from catalog.feeds import load_feeds_file
from catalog.identity import brand_alias_index
from catalog.sample_data.defects import Entry, inject_defects
from catalog.sample_data.distributors import DISTRIBUTORS, offer_rows
from catalog.sample_data.formats import WRITERS
from catalog.sample_data.market import load_market
from catalog.sample_data.offers import assign_offers
from catalog.sample_data.products import build_products
from catalog.sample_data.render import Columns

DEFAULT_FEEDS_CONFIG = Path(__file__).resolve().parent.parent / "feeds.yaml"


class DistributorSummary(BaseModel):
    files: dict[str, int]  # path relative to out_dir -> listings in it
    offers: int  # products listed (duplicates not counted)
    defects: dict[str, int]  # defect kind -> listings damaged (a duplicate is its later copy)


class SampleManifest(BaseModel):
    seed: int
    products: int
    categories: dict[str, int]
    distributors: dict[str, DistributorSummary]

    @property
    def defects(self) -> int:
        return sum(sum(summary.defects.values()) for summary in self.distributors.values())


def write_sample(
    out_dir: Path | str,
    *,
    seed: int = 42,
    products: int | None = None,
    feeds_config: Path = DEFAULT_FEEDS_CONFIG,
) -> SampleManifest:
    """Write the sample feeds (default size: market.yaml's default_products) and their manifest."""
    out = Path(out_dir)
    rng = random.Random(seed)
    market = load_market()
    document = load_feeds_file(feeds_config)
    feeds = {feed.name: feed for feed in document.feeds}
    aliases = brand_alias_index(document.brands)
    catalog = build_products(rng, market, aliases, market.default_products if products is None else products)
    skus = {distributor.name: distributor.sku for distributor in DISTRIBUTORS}
    offers = assign_offers(rng, market, catalog, document.brands, aliases, skus)
    summaries = {}
    for distributor in DISTRIBUTORS:
        feed = feeds[distributor.name]
        columns = Columns(feed)
        entries = [
            Entry(distributor.file_for(offer.product), offer_rows(distributor, feed, columns, offer))
            for offer in offers[distributor.name]
        ]
        entries = inject_defects(rng, entries, distributor.defects, market.defect_rate, columns)
        by_file: dict[str, list[Entry]] = {}
        for entry in entries:
            by_file.setdefault(entry.file, []).append(entry)
        for relative, file_entries in sorted(by_file.items()):
            (out / relative).parent.mkdir(parents=True, exist_ok=True)
            (out / relative).write_bytes(WRITERS[feed.format](feed, file_entries))
        summaries[distributor.name] = DistributorSummary(
            files={relative: len(file_entries) for relative, file_entries in sorted(by_file.items())},
            offers=len(offers[distributor.name]),
            defects=dict(sorted(Counter(e.defect for e in entries if e.defect).items())),
        )
    manifest = SampleManifest(
        seed=seed,
        products=len(catalog),
        categories=dict(sorted(Counter(product.category for product in catalog).items())),
        distributors=summaries,
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return manifest
