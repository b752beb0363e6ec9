"""Deterministic sample feeds of five distributors: `write_sample(out_dir, seed=…, products=…)`.

The same seed and product count give the same bytes, for a catalog of any size: real module and inverter
specs (pvlib's CEC tables, today's lines in current.yaml), Brazilian product families (market.yaml), then
variants of them (samples.feeds.variants). Files go to out_dir/<distributor>/…, written a chunk of products
at a time, and out_dir/manifest.json says what was written, including every defect planted (one reject each).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pydantic import BaseModel

from catalog.feeds import FEEDS_FILE
from samples.feeds.defects import Entry, inject_defects
from samples.feeds.distributors import DISTRIBUTORS, offer_rows
from samples.feeds.draw import draw_products
from samples.feeds.formats import WRITERS, FeedWriter
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
    """Write the sample feeds (default size: market.yaml's default_products) and their manifest, a chunk
    of products at a time (samples.feeds.draw)."""
    out = Path(out_dir)
    draw = draw_products(seed, products, feeds_config)
    feeds = {feed.name: feed for feed in draw.feeds.feeds}
    columns = {distributor.name: Columns(feeds[distributor.name]) for distributor in DISTRIBUTORS}
    defects_rng = draw.rng("defects")
    categories: Counter[str] = Counter()
    listed = {distributor.name: Counter[str]() for distributor in DISTRIBUTORS}  # file -> listings
    offered = Counter[str]()
    damaged = {distributor.name: Counter[str]() for distributor in DISTRIBUTORS}  # defect kind -> listings
    writers: dict[str, FeedWriter] = {}  # relative path -> its writer, opened at its first listing
    try:
        for chunk, offers in draw.listed_chunks():
            categories.update(product.category for product in chunk)
            for distributor in DISTRIBUTORS:
                feed, feed_columns = feeds[distributor.name], columns[distributor.name]
                entries = [
                    Entry(
                        distributor.file_for(offer.product),
                        offer_rows(distributor, feed, feed_columns, offer),
                    )
                    for offer in offers[distributor.name]
                ]
                entries = inject_defects(
                    defects_rng, entries, distributor.defects, draw.market.defect_rate, feed_columns
                )
                by_file: dict[str, list[Entry]] = {}
                for entry in entries:
                    by_file.setdefault(entry.file, []).append(entry)
                for relative, file_entries in by_file.items():
                    if relative not in writers:
                        (out / relative).parent.mkdir(parents=True, exist_ok=True)
                        writers[relative] = WRITERS[feed.format](feed, out / relative)
                    writers[relative].write(file_entries)
                    listed[distributor.name][relative] += len(file_entries)
                offered[distributor.name] += len(offers[distributor.name])
                damaged[distributor.name].update(entry.defect for entry in entries if entry.defect)
    finally:
        for writer in writers.values():
            writer.close()
    manifest = SampleManifest(
        seed=seed,
        products=categories.total(),
        categories=dict(sorted(categories.items())),
        distributors={
            name: DistributorSummary(
                files=dict(sorted(listed[name].items())),
                offers=offered[name],
                defects=dict(sorted(damaged[name].items())),
            )
            for name in listed
        },
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return manifest
