"""Deterministic sample feeds of five distributors: `write_sample(out_dir, seed=…, products=…)`.

The same seed and product count give the same bytes. Files go to out_dir/<distributor>/…, and
out_dir/manifest.json says what was written, including every defect planted (one reject each).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pydantic import BaseModel

from catalog.feeds import FEEDS_FILE
from samples.feeds.defects import Entry, inject_defects
from samples.feeds.distributors import DISTRIBUTORS, offer_rows
from samples.feeds.draw import draw_products
from samples.feeds.formats import WRITERS
from samples.feeds.render import Columns


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
    feeds_config: Path = FEEDS_FILE,
) -> SampleManifest:
    """Write the sample feeds (default size: market.yaml's default_products) and their manifest."""
    out = Path(out_dir)
    draw = draw_products(seed, products, feeds_config)
    feeds = {feed.name: feed for feed in draw.feeds.feeds}
    offers = draw.offers()
    summaries = {}
    for distributor in DISTRIBUTORS:
        feed = feeds[distributor.name]
        columns = Columns(feed)
        entries = [
            Entry(distributor.file_for(offer.product), offer_rows(distributor, feed, columns, offer))
            for offer in offers[distributor.name]
        ]
        entries = inject_defects(draw.rng, entries, distributor.defects, draw.market.defect_rate, columns)
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
        products=len(draw.products),
        categories=dict(sorted(Counter(product.category for product in draw.products).items())),
        distributors=summaries,
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return manifest
