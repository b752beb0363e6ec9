"""Catalog ETL: distributor feeds (a folder or an s3:// prefix) → one normalised catalog in Postgres.

    python -m ray_jobs.catalog_etl --source DIR_OR_S3_URI
    ray job submit --working-dir . -- python -m ray_jobs.catalog_etl --source s3://bucket/feeds/

Ray Data parses every feed file in parallel; the driver streams the listings into Postgres staging tables
(`common.catalog_store.CatalogLoad`), merges them product by product as Postgres hands them back in order,
and writes what differs from the stored catalog, all in one transaction. The driver holds a few thousand
listings at a time, whatever the catalog's size. Running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import ray
from pydantic import BaseModel, Field

from catalog.feed_readers import RejectCode
from catalog.feeds import DistributorFeed, files_for, load_feeds
from catalog.merge import listing_offer, merge_listings, offer_hash, product_hash, repeated_sku
from catalog.parsing import parse_feed_file
from common import catalog_store, postgres
from common.embedded import init_ray
from common.resources import Resources
from common.settings import get_settings
from common.storage import ObjectStore
from kernel.schemas import FeedRecord, RejectedRow
from ray_jobs.progress import quiet_ray_data, say, step, table
from ray_jobs.runner import job_run

JOB_NAME = "catalog_etl"
REPORT_COLUMNS = ("read", "accepted", "rejected", *catalog_store.OFFER_OUTCOMES)
LISTINGS_BATCH = 2_000  # parsed rows the driver takes from Ray Data at a time
PARSED_BLOCK_BYTES = 8 * 1024 * 1024
REJECTS_CHUNK = 1_000  # rejects kept per write


class CatalogEtlConfig(BaseModel):
    source: str = Field(description="Folder or s3:// prefix holding the distributor feeds.")
    feeds_config: Path = Field(description="YAML with the per-distributor column and unit mappings.")


class EtlReport(BaseModel):
    run_id: int
    per_distributor: dict[str, dict[str, int]]
    products_total: int
    products_removed: int
    changed: bool

    @property
    def accepted(self) -> int:
        return sum(row["accepted"] for row in self.per_distributor.values())

    @property
    def rows(self) -> postgres.RowCounts:
        def total(*columns: str) -> int:
            return sum(row.get(c, 0) for row in self.per_distributor.values() for c in columns)

        return postgres.RowCounts(
            read=total("read"),
            accepted=self.accepted,
            written=total("new", "updated", "removed"),
            rejected=total("rejected"),
        )


def parse_file(
    task: dict[str, Any], *, feeds: dict[str, DistributorFeed], store: ObjectStore
) -> Iterator[dict[str, str]]:
    """One feed file → rows tagged listing/reject, as JSON so Arrow never has to unify spec shapes. A
    listing row is already what the staging table takes (`CatalogLoad.add_listings`), ordered by the file's
    rank and its position in the file."""
    feed = feeds[task["distributor"]]
    try:
        data = store.read_bytes(task["path"])
    except OSError as error:
        items: Iterable[FeedRecord | RejectedRow] = [
            RejectedRow(
                distributor=feed.name,
                source_file=task["path"],
                line=0,
                raw="",
                reason=f"{RejectCode.UNREADABLE_FILE}: {error}",
            )
        ]
    else:
        items = parse_feed_file(feed, task["path"], data)
    for position, item in enumerate(items):
        if isinstance(item, RejectedRow):
            yield {"kind": "reject", "row": item.model_dump_json()}
        else:
            listing = staged_listing(item, file_rank=task["rank"], position=position)
            yield {"kind": "listing", "row": json.dumps(listing, ensure_ascii=False)}


def staged_listing(record: FeedRecord, *, file_rank: int, position: int) -> list[Any]:
    """An accepted row as the staging table takes it (`CatalogLoad.add_listings`)."""
    offer = listing_offer(record)
    return [
        record.distributor,
        record.sku,
        offer.product_id,
        record.source_file,
        file_rank,
        position,
        record.price_brl,
        record.stock,
        record.lead_time_days,
        offer_hash(offer, record.source_file),
        record.model_dump_json(),
    ]


class NoFeedFiles(FileNotFoundError):
    """The source holds no file any distributor's feed reads."""


def parsed_feeds(feeds: list[DistributorFeed], store: ObjectStore) -> ray.data.Dataset:
    """Every feed file under the store, to be parsed in parallel as the dataset is read; NoFeedFiles
    (naming the source and the file patterns) when there is none, FileNotFoundError when the source itself
    is missing."""
    quiet_ray_data()
    paths = store.list_files()
    tasks = [{"distributor": feed.name, "path": path} for feed in feeds for path in files_for(feed, paths)]
    if not tasks:
        patterns = ", ".join(pattern for feed in feeds for pattern in feed.files)
        raise NoFeedFiles(
            f"no feed file in {store.root} (looked for {patterns}; found {len(paths)} other files)"
        )
    ranked: list[dict[str, Any]] = [{**task, "rank": rank} for rank, task in enumerate(tasks)]
    parse = partial(parse_file, feeds={feed.name: feed for feed in feeds}, store=store)
    dataset = ray.data.from_items(ranked, override_num_blocks=len(ranked)).flat_map(parse)
    # A file's rows leave its task in blocks of at most this size, not as one block per file: the driver
    # takes a block at a time, so its memory follows the block, not the largest feed file.
    dataset.context.target_max_block_size = PARSED_BLOCK_BYTES
    return dataset


class FeedTally:
    """Rows read, accepted and rejected per distributor, and rejects kept as they come (a chunk at a
    time, whatever the feeds' size)."""

    def __init__(self, conn: psycopg.Connection[Any], run_id: int) -> None:
        self.conn, self.run_id = conn, run_id
        self.rows: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.files_read: set[tuple[str, str]] = set()
        self._rejects: list[RejectedRow] = []

    def listing(self, distributor: str, source_file: str) -> None:
        self.rows[distributor].update(read=1, accepted=1)
        self.files_read.add((distributor, source_file))

    def reject(self, reject: RejectedRow, *, read: bool) -> None:
        """`read`: a row seen for the first time (not a listing found to repeat a SKU, already counted)."""
        self.rows[reject.distributor].update(read=int(read), accepted=int(read) - 1, rejected=1)
        if reject.line > 0:
            self.files_read.add((reject.distributor, reject.source_file))
        self._rejects.append(reject)
        if len(self._rejects) >= REJECTS_CHUNK:
            self.flush()

    def flush(self) -> None:
        catalog_store.record_rejects(self.conn, rejects=self._rejects, run_id=self.run_id)
        self._rejects.clear()

    @property
    def accepted(self) -> int:
        return sum(row["accepted"] for row in self.rows.values())


def stage_feeds(dataset: ray.data.Dataset, load: catalog_store.CatalogLoad, tally: FeedTally) -> None:
    """The parsed feeds streamed into the load's staging tables, rejects into the tally."""

    def listings() -> Iterator[list[Any]]:
        for batch in dataset.iter_batches(batch_format="numpy", batch_size=LISTINGS_BATCH):
            for kind, row in zip(batch["kind"], batch["row"], strict=True):
                if kind == "listing":
                    listing = json.loads(row)
                    tally.listing(listing[0], listing[3])
                    yield listing
                else:
                    tally.reject(RejectedRow.model_validate_json(row), read=True)

    load.add_listings(listings())
    load.add_files_read(sorted(tally.files_read))


def merge_staged(load: catalog_store.CatalogLoad, tally: FeedTally, distributor_order: list[str]) -> None:
    """The staged listings into offers (a repeated SKU rejected) and products, merged one at a time."""
    load.settle_offers()
    for record, first_file in load.repeated_listings():
        tally.reject(repeated_sku(FeedRecord.model_validate_json(record), first_file), read=False)
    tally.flush()

    def products() -> Iterator[catalog_store.ProductRow]:
        for listings in load.listings_by_product():
            product = merge_listings([FeedRecord.model_validate_json(j) for j in listings], distributor_order)
            yield product, product_hash(product)

    load.add_products(products())


def run(config: CatalogEtlConfig, resources: Resources) -> EtlReport:
    feeds = load_feeds(config.feeds_config)
    store = resources.objects(config.source)
    with job_run(resources, JOB_NAME) as run, catalog_store.catalog_load(run.conn) as load:
        tally = FeedTally(run.conn, run.id)
        with step(f"parse feeds of {len(feeds)} distributors from {store.root} into staging"):
            stage_feeds(parsed_feeds(feeds, store), load, tally)
        with step(f"merge {tally.accepted} listings"):
            merge_staged(load, tally, [feed.name for feed in feeds])
        with step("write catalog"):
            write = load.apply()
        report = EtlReport(
            run_id=run.id,
            per_distributor=_report_rows(tally, write.offers),
            products_total=write.products,
            products_removed=write.products_removed,
            changed=write.changed,
        )
        run.report(report.model_dump(), report.rows, status="succeeded" if report.accepted else "failed")
    return report


def _report_rows(tally: FeedTally, outcomes: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    rows: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for distributor, counts in [*tally.rows.items(), *outcomes.items()]:
        rows[distributor].update(counts)
    return {d: {c: counts[c] for c in REPORT_COLUMNS} for d, counts in rows.items()}


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m ray_jobs.catalog_etl", description=__doc__)
    parser.add_argument("--source", default=settings.feeds_uri, help="feeds folder or s3:// prefix")
    parser.add_argument("--feeds-config", type=Path, default=settings.feeds_config)
    args = parser.parse_args(argv)
    init_ray(settings)
    try:
        config = CatalogEtlConfig(source=args.source, feeds_config=args.feeds_config)
        report = run(config, Resources(settings))
    except FileNotFoundError as error:  # recorded as failed in job_runs
        say(f"error: {error}")
        return 1
    say(table(report.per_distributor, REPORT_COLUMNS))
    say(
        f"products: {report.products_total} ({report.products_removed} removed); "
        + ("catalog updated" if report.changed else "no changes: the catalog already matches the feeds")
    )
    if report.accepted == 0:
        say("error: no row could be loaded")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
