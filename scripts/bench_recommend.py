"""Latency of kit recommendations and quotes on the full sample catalog.

    python -m scripts.bench_recommend [--requests 300] [--seed 42]

Standalone: writes the sample feeds into a temp folder, parses and merges them as the ETL does, builds
the equipment index once, then times a mix of requests (cities, consumptions, connections) on
`KitRecommender.recommend` in-process. Prints JSON. `make bench` calls `bench_over_http` with Serve up.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from kernel.schemas import Offer, Product
from samples.feeds.merged import merged_sample
from scripts.bench import percentiles, throughput
from services.recommend import KitRecommender
from services.recommend_models import RecommendRequest

CITIES = [("São Paulo", "SP"), ("Belo Horizonte", "MG"), ("Fortaleza", "CE"), ("Porto Alegre", "RS"),
          ("Manaus", "AM"), ("Brasília", "DF"), ("Salvador", "BA"), ("Curitiba", "PR")]  # fmt: skip
CONSUMPTIONS = [250, 400, 600, 900, 1500, 3000, 6000]


def recommend_requests(count: int, seed: int) -> list[RecommendRequest]:
    rng = random.Random(seed)
    return [
        RecommendRequest(
            consumption_kwh_month=rng.choice(CONSUMPTIONS),
            city=city,
            uf=uf,
            connection=rng.choice(["mono", "bi", "tri"]),
        )
        for city, uf in (rng.choice(CITIES) for _ in range(count))
    ]


def bench_over_http(url: str, recommender: KitRecommender, count: int) -> dict[str, Any]:
    """/recommend and /quote (the best option's BOM quoted back) over HTTP, one client, vs in-process."""
    requests = recommend_requests(count, seed=1)
    http_ms, quote_ms, local_ms = [], [], []
    with httpx.Client(base_url=url, timeout=30) as http:
        for request in requests[:5]:  # warm-up
            http.post("/store/helio/recommend", json=request.model_dump(exclude_none=True))
        for request in requests:
            body = request.model_dump(exclude_none=True)
            started = time.perf_counter()
            response = http.post("/store/helio/recommend", json=body)
            http_ms.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            options = response.json()["options"]
            if options:
                cart = [{"product_id": line["product_id"], "qty": line["qty"]} for line in options[0]["bom"]]
                started = time.perf_counter()
                http.post("/store/helio/quote", json={"items": cart, **body}).raise_for_status()
                quote_ms.append((time.perf_counter() - started) * 1000)
    for request in requests:
        started = time.perf_counter()
        recommender.recommend(request)
        local_ms.append((time.perf_counter() - started) * 1000)
    recommend_http, recommend_local = percentiles(http_ms), percentiles(local_ms)
    return {
        "recommend_http_1_client": recommend_http,
        "recommend_http_8_clients": concurrent_recommend(url, recommend_requests(count, seed=2), clients=8),
        "quote_http_1_client": percentiles(quote_ms),
        "recommend_in_process": recommend_local,
        "ratio_http_p50_to_in_process_p50": round(recommend_http["p50_ms"] / recommend_local["p50_ms"], 2),
    }


def other_placement(url: str, shipped: dict[str, Any], placement: str, count: int) -> dict[str, Any]:
    """The 8-client row of `bench_over_http` again on the app now deployed at `url` (the shipped one with
    its kits composed at `placement` instead), and the shipped figure's ratio to it."""
    concurrent_recommend(url, recommend_requests(16, seed=3), clients=8)  # warm-up
    other = concurrent_recommend(url, recommend_requests(count, seed=2), clients=8)
    return {
        "what": f"kit_composer.placement: {placement}",
        "recommend_http_8_clients": other,
        "ratio_shipped_to_this_8_clients_req_per_s": round(
            shipped["recommend_http_8_clients"]["req_per_s"] / other["req_per_s"], 2
        ),
    }


def concurrent_recommend(url: str, requests: list[RecommendRequest], clients: int) -> dict[str, Any]:
    """Each request once, spread over `clients` threads with a connection each: latency and req/s."""
    http_ms: list[float] = []

    def client(worker: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            for request in requests[worker::clients]:
                started = time.perf_counter()
                response = http.post("/store/helio/recommend", json=request.model_dump(exclude_none=True))
                http_ms.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return throughput((http_ms, time.perf_counter() - started))


def sample_catalog(out: Path, seed: int) -> tuple[list[Product], list[Offer]]:
    merged = merged_sample(out, seed=seed)
    return list(merged.products.values()), list(merged.offers.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        catalog = sample_catalog(Path(folder), args.seed)
    recommender = KitRecommender(load_catalog=lambda: catalog, max_options=5)
    started = time.perf_counter()
    assert recommender.refresh()
    build_s = time.perf_counter() - started
    requests = recommend_requests(args.requests, args.seed)
    for request in requests[:10]:  # warm-up
        recommender.recommend(request)
    samples, with_options = [], 0
    for request in requests:
        started = time.perf_counter()
        response = recommender.recommend(request)
        samples.append((time.perf_counter() - started) * 1000)
        with_options += bool(response.options)
    print(
        json.dumps(
            {
                "products": len(catalog[0]),
                "offers": len(catalog[1]),
                "index_build_s": round(build_s, 2),
                "with_options": with_options,
                **percentiles(samples),
            }
        )
    )


if __name__ == "__main__":
    main()
