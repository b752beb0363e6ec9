"""The sample as one merged catalog, in-process (no Ray, no Postgres): for tests and benchmarks of
what sits downstream of the ETL."""

from __future__ import annotations

from pathlib import Path

from catalog.feeds import FEEDS_FILE, files_for, load_feeds
from catalog.merge import MergedCatalog, merge_feed_records
from catalog.parsing import parse_feed_file
from kernel.schemas import FeedRecord
from samples.feeds import write_sample


def merged_sample(out: Path, *, seed: int = 42, products: int | None = None) -> MergedCatalog:
    """write_sample → every feed file parsed → merged, as the ETL does it."""
    write_sample(out, seed=seed, products=products)
    paths = [p.relative_to(out).as_posix() for p in sorted(out.rglob("*")) if p.is_file()]
    feeds = load_feeds(FEEDS_FILE)
    records = [
        item
        for feed in feeds
        for path in files_for(feed, paths)
        for item in parse_feed_file(feed, path, (out / path).read_bytes())
        if isinstance(item, FeedRecord)
    ]
    return merge_feed_records(records, [feed.name for feed in feeds])
