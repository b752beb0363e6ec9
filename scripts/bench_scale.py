"""`make bench-scale`: the catalog pipeline and search at storefront scale (not in CI: hours at 1M here).

For each size, after the default sample as the same run's baseline: sample feeds (kept under the work
folder, deterministic by seed), the catalog ETL on an empty catalog and again on the same feeds (which
changes nothing), the embedding job, the index's size on disk, then catalog search in this process over
the index the job wrote, on storefront queries the search has never seen. Each job runs as its own
process, as `ray job submit` would run it, with a local Ray of its own; a sampler reads the RSS of each
of the job's processes (the driver, Ray's workers, Ray's own services) and of Postgres every 0.25 s.
On an index the run has just embedded, the same search is timed again after Edge's HNSW graph is built
(`EdgeVectorStore.optimize`, which the platform does not call: it holds the process meanwhile), to show
what an indexed segment changes. Prints one JSON object.

    python -m scripts.bench_scale --sizes 100000 1000000 [--steps etl embed search] [--work DIR]

Without `etl` in --steps a size's catalog and index from an earlier run are reused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from kernel.schemas import CATALOG_COLLECTION
from scripts.bench import percentiles, search_latencies, shipped_catalog_search

if TYPE_CHECKING:
    from services.search import CatalogSearch

STEPS = ("etl", "embed", "search")
DEFAULT_WORK = Path.home() / ".cache" / "ysh-platform" / "bench-scale"
SAMPLE_PERIOD_S = 0.25
MB = 1024 * 1024
ROW_COUNTS = ("read", "accepted", "rejected", "written", "unchanged", "embedded", "products_total")


@dataclass
class PeakMemory:
    """Peak RSS per role over a job's process tree and Postgres': the largest single process and the sum
    over the role's processes (pages shared between processes, such as Ray's object store or Postgres'
    shared buffers, count in each process that touched them)."""

    driver_pid: int
    postgres_pid: int | None
    largest: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)

    def _processes(self) -> Iterator[tuple[str, psutil.Process]]:
        for pid, role in ((self.driver_pid, "driver"), (self.postgres_pid, "postgres")):
            if pid is None:
                continue
            try:
                root = psutil.Process(pid)
                yield role, root
                for child in root.children(recursive=True):
                    yield role if role == "postgres" else _ray_role(child), child
            except psutil.Error:  # the job ended between two samples
                continue

    def sample(self) -> None:
        totals: dict[str, int] = {}
        for role, process in self._processes():
            try:
                rss = process.memory_info().rss
            except psutil.Error:
                continue
            totals[role] = totals.get(role, 0) + rss
            self.largest[role] = max(self.largest.get(role, 0), rss)
        for role, rss in totals.items():
            self.total[role] = max(self.total.get(role, 0), rss)

    def report(self) -> dict[str, dict[str, int]]:
        return {
            role: {"largest_process_mb": self.largest[role] // MB, "all_processes_mb": self.total[role] // MB}
            for role in sorted(self.largest)
        }


def _ray_role(process: psutil.Process) -> str:
    try:
        command = process.cmdline()
    except psutil.Error:
        return "ray services"
    return "ray workers" if command and command[0].startswith("ray::") else "ray services"


def run_job(module: str, args: list[str], env: dict[str, str], postgres_pid: int | None) -> dict[str, Any]:
    """`python -m module args` in its own process, its memory sampled; its wall time and peaks."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", module, *args], env=env, stdout=subprocess.DEVNULL)
    peaks = PeakMemory(process.pid, postgres_pid)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_PERIOD_S):
            peaks.sample()

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = process.wait()
    done.set()
    sampler.join()
    if code != 0:
        raise RuntimeError(f"python -m {module} {' '.join(args)} exited with {code}")
    return {"wall_s": round(time.perf_counter() - started, 1), "peak_rss": peaks.report()}


def last_run(dsn: str, job: str) -> dict[str, Any]:
    """The job's own time (without starting Ray) and rows, as its latest `job_runs` row has them."""
    from common import postgres

    with postgres.connect(dsn) as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM finished_at - started_at) AS seconds, counts FROM job_runs "
            "WHERE job = %s ORDER BY started_at DESC LIMIT 1",
            (job,),
        ).fetchone()
    if row is None:
        raise RuntimeError(f"no {job} run in job_runs")
    counts = {key: value for key, value in row["counts"].items() if key in ROW_COUNTS}
    seconds = float(row["seconds"])
    return {"job_s": round(seconds, 1), "rows": counts, "rows_read_per_s": round(counts["read"] / seconds)}


def disk_mb(folder: Path) -> dict[str, float]:
    """Blocks the files take on disk, and their apparent size (Qdrant preallocates its WAL and mmap files
    sparsely)."""
    files = [p.stat() for p in folder.rglob("*") if p.is_file()]
    return {
        "on_disk_mb": round(sum(f.st_blocks * 512 for f in files) / MB, 1),
        "apparent_mb": round(sum(f.st_size for f in files) / MB, 1),
    }


def sample_feeds(folder: Path, products: int | None) -> dict[str, int]:
    """The feeds of `products` products (None: the default sample), written once; products and listings."""
    from samples.feeds import SampleManifest, write_sample

    manifest_file = folder / "manifest.json"
    if manifest_file.exists():
        manifest = SampleManifest.model_validate_json(manifest_file.read_text(encoding="utf-8"))
    else:
        shutil.rmtree(folder, ignore_errors=True)  # a write cut short
        manifest = write_sample(folder, products=products)
    listings = sum(sum(d.files.values()) for d in manifest.distributors.values())
    return {"products_drawn": manifest.products, "listings": listings}


def search_figures(search: CatalogSearch, queries: list[str]) -> dict[str, Any]:
    return {
        **percentiles(asyncio.run(search_latencies(search, queries))),
        "process_rss_mb": psutil.Process().memory_info().rss // MB,
    }


def bench_size(work: Path, products: int | None, steps: set[str], queries: list[str]) -> dict[str, Any]:
    from common.embedded import postgres_pid, stop_postgres
    from common.resources import Resources
    from common.settings import Settings
    from common.vectors.client import DirectVectorIndex
    from common.vectors.edge import EdgeVectorStore

    root = work / str(products or "default")
    feeds = root / "feeds"
    result: dict[str, Any] = {"sample": sample_feeds(feeds, products)}
    settings = Settings(data_dir=root / "data")
    if "etl" in steps:  # an empty catalog and index: the first ETL and embedding do all the work
        stop_postgres(settings.postgres_dir)
        shutil.rmtree(settings.data_dir, ignore_errors=True)
    dsn = Resources(settings).dsn  # starts the embedded Postgres the jobs share, stopped when this exits
    pid = postgres_pid(settings.postgres_dir)
    env = {**os.environ, "DATA_DIR": str(settings.data_dir), "DATABASE_URL": dsn}
    env.pop("RAY_ADDRESS", None)
    if "etl" in steps:
        for name in ("etl", "etl_no_change"):
            measured = run_job("ray_jobs.catalog_etl", ["--source", str(feeds)], env, pid)
            result[name] = measured | last_run(dsn, "catalog_etl")
    if "embed" in steps:
        result["embed"] = run_job("ray_jobs.embed_catalog", [], env, pid) | last_run(dsn, "embed_catalog")
    if settings.vectors_dir.exists():
        result["index"] = disk_mb(settings.vectors_dir)
    if "search" in steps:
        store = EdgeVectorStore(settings.vectors_dir)
        try:
            search = shipped_catalog_search(DirectVectorIndex(store))
            asyncio.run(search_latencies(search, queries[:20]))  # the encoder and the shards warm
            result["search"] = search_figures(search, queries[20:])
            if "embed" in steps:  # a fresh index, as the platform leaves it: what an HNSW graph would change
                started = time.perf_counter()
                store.optimize(CATALOG_COLLECTION)
                result["search_after_optimize"] = search_figures(search, queries[20:]) | {
                    "optimize_s": round(time.perf_counter() - started, 1)
                }
        finally:
            store.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_scale", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS))
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="feeds and data per size, kept")
    parser.add_argument("--queries", type=int, default=300, help="searches per size, never seen before")
    args = parser.parse_args(argv)
    from scripts.queries import storefront_queries

    queries = storefront_queries(count=args.queries + 20)
    steps = set(args.steps)
    sizes: dict[str, Any] = {}
    for products in (None, *args.sizes):
        sizes[str(products or "default")] = measured = bench_size(args.work, products, steps, queries)
        print(f"{products or 'default'}: {json.dumps(measured)}", file=sys.stderr, flush=True)
    report: dict[str, Any] = {"machine": f"{os.cpu_count()} cores", "steps": args.steps, "sizes": sizes}
    baseline = sizes["default"].get("search")
    if baseline:
        report["search_p99_ratio_to_default"] = {
            size: round(figures["search"]["p99_ms"] / baseline["p99_ms"], 2)
            for size, figures in sizes.items()
            if "search" in figures
        }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
