"""Catalog ETL: distributor feeds (a folder or an s3:// prefix) → one normalised catalog in Postgres.

    python -m ray_jobs.catalog_etl --source DIR_OR_S3_URI
    ray job submit --working-dir . -- python -m ray_jobs.catalog_etl --source s3://bucket/feeds/

Ray Data parses every feed file in parallel; the driver merges listings into products, diffs them
against Postgres and writes the change set in one transaction. Running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from functools import partial
from pathlib import Path
from typing import Any

import ray
from pydantic import BaseModel, Field

from catalog.feed_readers import RejectCode
from catalog.feeds import DistributorFeed, files_for, load_feeds
from catalog.merge import diff_catalog, merge_feed_records, offer_hash, product_hash
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
REPORT_COLUMNS = ("read", "accepted", "rejected", "new", "updated", "unchanged", "removed")


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
) -> list[dict[str, Any]]:
    """One feed file → rows tagged record/reject, as JSON so Arrow never has to unify spec shapes."""
    feed = feeds[task["distributor"]]
    try:
        data = store.read_bytes(task["path"])
    except OSError as error:
        items: list[FeedRecord | RejectedRow] = [
            RejectedRow(
                distributor=feed.name,
                source_file=task["path"],
                line=0,
                raw="",
                reason=f"{RejectCode.UNREADABLE_FILE}: {error}",
            )
        ]
    else:
        items = list(parse_feed_file(feed, task["path"], data))
    return [
        {"kind": "record" if isinstance(item, FeedRecord) else "reject", "json": item.model_dump_json()}
        for item in items
    ]


class NoFeedFiles(FileNotFoundError):
    """The source holds no file any distributor's feed reads."""


def read_feeds(
    feeds: list[DistributorFeed], store: ObjectStore
) -> tuple[list[FeedRecord], list[RejectedRow]]:
    """Every feed file under the store, parsed in parallel; NoFeedFiles (naming the source and the file
    patterns) when there is none, FileNotFoundError when the source itself is missing."""
    quiet_ray_data()
    paths = store.list_files()
    tasks = [{"distributor": feed.name, "path": path} for feed in feeds for path in files_for(feed, paths)]
    if not tasks:
        patterns = ", ".join(pattern for feed in feeds for pattern in feed.files)
        raise NoFeedFiles(
            f"no feed file in {store.root} (looked for {patterns}; found {len(paths)} other files)"
        )
    parse = partial(parse_file, feeds={feed.name: feed for feed in feeds}, store=store)
    dataset = ray.data.from_items(tasks, override_num_blocks=len(tasks)).flat_map(parse)
    records: list[FeedRecord] = []
    rejects: list[RejectedRow] = []
    for row in dataset.iter_rows():
        if row["kind"] == "record":
            records.append(FeedRecord.model_validate_json(row["json"]))
        else:
            rejects.append(RejectedRow.model_validate_json(row["json"]))
    return records, rejects


def run(config: CatalogEtlConfig, resources: Resources) -> EtlReport:
    feeds = load_feeds(config.feeds_config)
    store = resources.objects(config.source)
    with job_run(resources, JOB_NAME) as run:
        conn = run.conn
        with step(f"parse feeds of {len(feeds)} distributors from {store.root}"):
            records, parse_rejects = read_feeds(feeds, store)
        with step(f"merge {len(records)} listings"):
            merged = merge_feed_records(records, [feed.name for feed in feeds])
            rejects = parse_rejects + merged.rejects
            files_read = {(r.distributor, r.source_file) for r in records}
            files_read |= {(r.distributor, r.source_file) for r in rejects if r.line > 0}
            diff = diff_catalog(
                merged,
                stored_product_hashes=catalog_store.stored_product_hashes(conn),
                stored_offers=catalog_store.stored_offers(conn),
                files_read=files_read,
            )
        with step("write catalog"):
            removed_products = catalog_store.apply_catalog_changes(
                conn,
                products=[(p, product_hash(p)) for p in diff.new_products + diff.changed_products],
                offers=[
                    (o, file, offer_hash(o, file))
                    for o in diff.new_offers + diff.changed_offers
                    for file in [merged.offer_files[(o.distributor, o.sku)]]
                ],
                removed_offers=diff.removed_offers,
            )
            catalog_store.record_rejects(conn, rejects=rejects, run_id=run.id)
        report = EtlReport(
            run_id=run.id,
            per_distributor=_report_rows(records, parse_rejects, merged.rejects, diff.per_distributor()),
            products_total=len(merged.products),
            products_removed=removed_products,
            changed=not diff.is_empty,
        )
        run.report(report.model_dump(), report.rows, status="succeeded" if report.accepted else "failed")
    return report


def _report_rows(
    records: list[FeedRecord],
    parse_rejects: list[RejectedRow],
    merge_rejects: list[RejectedRow],
    outcomes: dict[str, dict[str, int]],
) -> dict[str, dict[str, int]]:
    rows: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for record in records:
        rows[record.distributor]["read"] += 1
        rows[record.distributor]["accepted"] += 1
    for reject in parse_rejects:
        rows[reject.distributor]["read"] += 1
        rows[reject.distributor]["rejected"] += 1
    for reject in merge_rejects:  # parsed fine, then found to repeat a SKU: already counted as read
        rows[reject.distributor]["accepted"] -= 1
        rows[reject.distributor]["rejected"] += 1
    for distributor, counts in outcomes.items():
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
