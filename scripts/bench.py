"""`make bench`: ETL, embedding, search, recommend and quote figures, with baselines from the same run.

Prints one JSON object. Every ratio compares the platform path with the plainest way to do the same
work on this machine, so the figures travel across machines better than raw seconds do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from common.resources import Resources
    from serve_app.config import SearchAppConfig
    from services.search import CatalogIndex, CatalogSearch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    quantiles = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50_ms": round(quantiles[49], 2),
        "p95_ms": round(quantiles[94], 2),
        "p99_ms": round(quantiles[98], 2),
        "n": len(ordered),
    }


def pandas_parse_rows(feeds: Path, feeds_config: Path) -> tuple[int, float]:
    """Baseline: read every feed file with plain pandas/pyarrow readers, no mapping or validation."""
    import pandas as pd

    from catalog.feeds import files_for, load_feeds

    paths = sorted(p.relative_to(feeds).as_posix() for p in feeds.rglob("*") if p.is_file())
    started = time.perf_counter()
    rows = 0
    for feed in load_feeds(feeds_config):
        for relative in files_for(feed, paths):
            path = feeds / relative
            try:
                if path.suffix == ".xlsx":
                    frame = pd.read_excel(path, engine="openpyxl")
                elif path.suffix == ".jsonl":
                    frame = pd.read_json(path, lines=True)
                else:
                    frame = pd.read_csv(
                        path,
                        sep=feed.delimiter,
                        encoding=feed.encoding,
                        encoding_errors="replace",
                        on_bad_lines="skip",
                        engine="pyarrow" if feed.delimiter == "," else "c",
                    )
            except Exception:  # the baseline skips what it cannot read; the ETL rejects it with a reason
                continue
            rows += len(frame)
    return rows, time.perf_counter() - started


def bench_etl(resources: Resources, feeds: Path) -> dict[str, Any]:
    from ray_jobs.catalog_etl import CatalogEtlConfig, run

    settings = resources.settings
    started = time.perf_counter()
    report = run(CatalogEtlConfig(source=str(feeds), feeds_config=settings.feeds_config), resources)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    run(CatalogEtlConfig(source=str(feeds), feeds_config=settings.feeds_config), resources)
    rerun_s = time.perf_counter() - started
    rows = sum(row["read"] for row in report.per_distributor.values())
    baseline_rows, baseline_s = pandas_parse_rows(feeds, settings.feeds_config)
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rerun_no_change_seconds": round(rerun_s, 2),
        "rows_per_s": round(rows / seconds),
        "baseline_pandas_rows_per_s": round(baseline_rows / baseline_s),
        "ratio_to_pandas": round((rows / seconds) / (baseline_rows / baseline_s), 3),
        "products": report.products_total,
    }


def bench_embedding(resources: Resources) -> dict[str, Any]:
    from catalog.documents import product_text
    from common import catalog_store
    from models.embedders import EmbedderConfig, SentenceTransformerEmbedder
    from ray_jobs.embed_catalog import run
    from ray_jobs.indexing import EmbedJobConfig

    started = time.perf_counter()
    counts = run(EmbedJobConfig(), resources)
    job_s = time.perf_counter() - started
    with resources.connect() as conn:
        texts = [product_text(row) for row in catalog_store.catalog_for_index(conn)]
    embedder = SentenceTransformerEmbedder(EmbedderConfig())
    started = time.perf_counter()
    embedder.embed(texts)
    bare_s = time.perf_counter() - started
    job_rate = counts["embedded"] / job_s
    bare_rate = len(texts) / bare_s
    return {
        "sentences": counts["embedded"],
        "job_seconds": round(job_s, 2),
        "sentences_per_s": round(job_rate, 1),
        "baseline_bare_encode_per_s": round(bare_rate, 1),
        "ratio_to_bare_encode": round(job_rate / bare_rate, 3),
    }


def bench_knowledge_bases(resources: Resources) -> dict[str, Any]:
    """The shipped corpus and the price passages of the catalog, first run then a run with no change."""
    from ray_jobs.knowledge_bases import KnowledgeJobConfig, run

    config = KnowledgeJobConfig(source=resources.settings.docs_uri)
    started = time.perf_counter()
    rows = run(config, resources)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    run(config, resources)
    return {
        "chunks": sum(row.get("added", 0) for name, row in rows.items() if name != "helio-pricing"),
        "price_passages": rows.get("helio-pricing", {}).get("added", 0),
        "first_run_seconds": round(first_s, 2),
        "unchanged_run_seconds": round(time.perf_counter() - started, 2),
    }


# The search load the freshness figures are measured under (a dozen queries, cycled).
QUERIES = [
    "inversor 5 kW monofásico",
    "painel 550W",
    "microinversor",
    "bateria de lítio 5 kWh",
    "string box",
    "estrutura telhado cerâmico",
    "kit 5 kWp",
    "cabo solar 6mm",
    "conector mc4",
    "inversor híbrido",
    "módulo Canadian Solar",
    "Growatt",
]


async def http_latencies(url: str, clients: int, queries: list[str]) -> tuple[list[float], float]:
    """Each query once, spread over `clients` concurrent clients: (latencies in ms, wall seconds)."""
    import httpx

    samples: list[float] = []

    async def client(worker: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            for query in queries[worker::clients]:
                started = time.perf_counter()
                response = await http.get("/store/helio/search", params={"q": query})
                samples.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(client(worker) for worker in range(clients)))
    return samples, time.perf_counter() - started


def throughput(measured: tuple[list[float], float]) -> dict[str, float]:
    """Latency percentiles and requests per second of one `http_latencies` run."""
    samples, seconds = measured
    return {**percentiles(samples), "req_per_s": round(len(samples) / seconds, 1)}


def shipped_catalog_search(index: CatalogIndex) -> CatalogSearch:
    """Catalog search in this process as the shipped router runs it (its query encoder and retrieval
    options) over `index`, without Serve or HTTP."""
    from models.embedders import load_embedder
    from serve_app.config import DEFAULT_SERVE_CONFIG, SearchAppConfig
    from services.search import CatalogSearch

    shipped = SearchAppConfig.from_yaml(DEFAULT_SERVE_CONFIG)
    embedder = load_embedder(shipped.embedder)

    async def embed(text: str) -> list[float]:
        return [float(x) for x in embedder.embed([text])[0]]

    return CatalogSearch(
        embed=embed,
        index=index,
        vector_name=embedder.name,
        brands_refresh_s=60,
        candidates=shipped.router.candidates,
        rank_pool=shipped.router.rank_pool,
    )


async def search_latencies(search: CatalogSearch, queries: list[str]) -> list[float]:
    """Milliseconds per query, one at a time."""
    from catalog.query import SearchParams

    samples = []
    for query in queries:
        started = time.perf_counter()
        await search.search(SearchParams(q=query))
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def before_encoder_levers(config: SearchAppConfig) -> SearchAppConfig:
    """`config` with the query encoder as it ran before issue 17: torch, its own 1-CPU deployment batching
    with a 5 ms wait, the router at 0.5 CPU."""
    from serve_app.config import ActorOptions

    return config.model_copy(
        update={
            "embedder": config.embedder.model_copy(update={"kind": "sentence-transformers"}),
            "router": config.router.model_copy(update={"ray_actor_options": ActorOptions(num_cpus=0.5)}),
            "query_embedder": config.query_embedder.model_copy(
                update={
                    "placement": "deployment",
                    "num_replicas": 1,
                    "ray_actor_options": ActorOptions(num_cpus=1),
                    "batch_wait_timeout_s": 0.005,
                }
            ),
        }
    )


def bench_serving(
    resources: Resources, requests: int, feeds: Path, scratch: Path, changes: int
) -> dict[str, Any]:
    """Search, then recommend and quote, against the Serve app over HTTP and in-process; then the
    freshness of prices under search load (on a copy of the feeds, which its feed path edits)."""
    from ray import serve

    from scripts.bench_ask import bench_ask
    from scripts.bench_freshness import bench_freshness
    from scripts.bench_recommend import bench_over_http, other_placement
    from scripts.queries import storefront_queries
    from serve_app.app import build_search_app
    from serve_app.config import DEFAULT_SERVE_CONFIG, SearchAppConfig
    from serve_app.kits import load_catalog_from_postgres, load_tariffs_from_postgres
    from services.recommend import KitRecommender

    settings = resources.settings
    serve.start(http_options={"host": "127.0.0.1", "port": settings.port})
    shipped = SearchAppConfig.from_yaml(DEFAULT_SERVE_CONFIG)
    # Every bench client is 127.0.0.1: the per-client rate (one storefront customer's) would measure
    # itself, not the service, so it is lifted here; the shipped config is otherwise unchanged.
    unlimited = shipped.router.limits.model_copy(update={"rate_per_s": 1e6, "burst": 1_000_000})
    # Every search figure asks queries no earlier request asked (disjoint slices of the storefront
    # workload), as the shipped router does with its query cache on; one row repeats a slice: the hits.
    workload = iter(storefront_queries(count=5 * requests + 60))

    def fresh(count: int) -> list[str]:
        return [next(workload) for _ in range(count)]

    router = shipped.router.model_copy(update={"limits": unlimited})
    benched = shipped.model_copy(update={"router": router})
    serve.run(build_search_app(benched, settings), name="bench", route_prefix="/")
    url = f"http://127.0.0.1:{settings.port}"
    asyncio.run(http_latencies(url, 1, fresh(20)))  # warm-up: model, brand cache, connections
    asked_once = fresh(requests)
    one = throughput(asyncio.run(http_latencies(url, 1, asked_once)))
    sixteen = throughput(asyncio.run(http_latencies(url, 16, fresh(requests))))
    repeated = throughput(asyncio.run(http_latencies(url, 16, asked_once)))  # every one a cache hit
    recommender = KitRecommender(
        load_catalog=partial(load_catalog_from_postgres, resources, 30.0),
        load_tariffs=partial(load_tariffs_from_postgres, resources, 30.0),
        max_options=shipped.router.recommend_max_options,
    )
    assert recommender.refresh()
    solar = bench_over_http(url, recommender, max(requests // 3, 20))
    ask = bench_ask(settings, url, max(requests // 3, 20), benched)
    shutil.copytree(feeds, scratch / "feeds")
    freshness = bench_freshness(settings, scratch / "feeds", scratch, url, QUERIES, changes)
    # The same search before this round's encoder levers, redeployed in this run: torch MiniLM in a
    # QueryEmbedder deployment of its own (one Ray hop more). The single index round trip is code: it stays.
    serve.run(build_search_app(before_encoder_levers(benched), settings), name="bench", route_prefix="/")
    asyncio.run(http_latencies(url, 1, fresh(20)))
    before_one = throughput(asyncio.run(http_latencies(url, 1, fresh(requests // 2))))
    before_sixteen = throughput(asyncio.run(http_latencies(url, 16, fresh(requests))))
    # /recommend with its kits composed at the other placement (router threads or KitComposer replicas).
    placement = "deployment" if benched.kit_composer.placement == "router" else "router"
    other = benched.kit_composer.model_copy(update={"placement": placement})
    serve.run(
        build_search_app(benched.model_copy(update={"kit_composer": other}), settings),
        name="bench",
        route_prefix="/",
    )
    solar[f"kits_composed_at_{placement}"] = other_placement(url, solar, placement, max(requests // 3, 20))
    serve.shutdown()
    # In-process: the index through its owner actor, as the router reaches it.
    local_search = shipped_catalog_search(resources.index_client(timeout_s=10))
    asyncio.run(search_latencies(local_search, fresh(20)))
    local = percentiles(asyncio.run(search_latencies(local_search, fresh(requests))))
    search = {
        "queries": "never asked before (scripts/queries.py), one slice per row",
        "http_1_client": one,
        "http_16_clients": sixteen,
        "http_16_clients_cache_hits": repeated,
        "ratio_cache_hits_to_never_seen_16_clients_p99": round(repeated["p99_ms"] / sixteen["p99_ms"], 2),
        "in_process": local,
        "ratio_http_p50_to_in_process_p50": round(one["p50_ms"] / local["p50_ms"], 2),
        "before_encoder_levers": {
            "what": "torch MiniLM in its own QueryEmbedder deployment, as before issue 17",
            "http_1_client": before_one,
            "http_16_clients": before_sixteen,
            "ratio_1_client_p50": round(one["p50_ms"] / before_one["p50_ms"], 2),
            "ratio_16_clients_req_per_s": round(sixteen["req_per_s"] / before_sixteen["req_per_s"], 2),
        },
    }
    return {"search": search, "recommend": solar, "ask": ask, "freshness": freshness}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench", description=__doc__)
    parser.add_argument("--feeds", type=Path, default=Path("sample_feeds"))
    parser.add_argument("--requests", type=int, default=300, help="search requests per measurement")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--changes", type=int, default=20, help="price changes per freshness path")
    args = parser.parse_args()

    from common.embedded import init_ray, local_ray_cpus
    from common.resources import Resources
    from common.settings import Settings
    from common.vectors.owner import stop_vector_index
    from serve_app.config import SearchAppConfig

    with tempfile.TemporaryDirectory(prefix="ysh-bench-") as scratch:
        settings = Settings(data_dir=Path(scratch), port=args.port)
        # As `make run` starts it: the freshness figures run the ETL while the Serve app serves.
        init_ray(
            settings,
            num_cpus=local_ray_cpus(SearchAppConfig.from_yaml(settings.serve_config).reserved_cpus()),
        )
        results: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}}
        resources = Resources(settings)
        results["etl"] = bench_etl(resources, args.feeds.resolve())
        results["embedding"] = bench_embedding(resources)
        results["knowledge_bases"] = bench_knowledge_bases(resources)
        results |= bench_serving(resources, args.requests, args.feeds.resolve(), Path(scratch), args.changes)
        stop_vector_index()
        import pgserver

        pgserver.get_server(settings.postgres_dir).cleanup()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
