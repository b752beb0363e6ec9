"""Latency of `KitRecommender.recommend` (in-process: no Serve, no HTTP) on the full sample catalog.

    python -m scripts.bench_recommend [--requests 300] [--seed 42]

Writes the sample feeds into a temp folder, parses and merges them as the ETL does, builds the
equipment index once, then times a mix of requests (cities, consumptions, connections). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from catalog.sample_data.merged import merged_sample
from common.schemas import Offer, Product
from scripts.bench import percentiles
from serve_app.recommend import KitRecommender
from serve_app.recommend_models import RecommendRequest

CITIES = [("São Paulo", "SP"), ("Belo Horizonte", "MG"), ("Fortaleza", "CE"), ("Porto Alegre", "RS"),
          ("Manaus", "AM"), ("Brasília", "DF"), ("Salvador", "BA"), ("Curitiba", "PR")]  # fmt: skip
CONSUMPTIONS = [250, 400, 600, 900, 1500, 3000, 6000]


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
    rng = random.Random(args.seed)
    requests = [
        RecommendRequest(
            consumption_kwh_month=rng.choice(CONSUMPTIONS),
            city=city,
            uf=uf,
            connection=rng.choice(["mono", "bi", "tri"]),
        )
        for city, uf in (rng.choice(CITIES) for _ in range(args.requests))
    ]
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
