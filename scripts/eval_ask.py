"""`make eval`: Hélio's retrieval and citations on the shipped question set (`rag/eval/questions.yaml`).

    python -m scripts.eval_ask [--engine extractive|llama_cpp] [--products 1500]

Builds everything in a scratch data folder with the project's own jobs — a sample catalog (ETL and
embedding), the knowledge bases from `rag/corpus` — then asks every question in-process (no Serve) and
prints one JSON object:
- `hit_rate_at_5`: share of questions whose expected document (any of its chunks) — or, for catalog
  questions, a product of the expected category — is among the first five passages retrieved;
- `cited_share`: share of answers whose citations include it;
- the same per collection, and the ids of the questions missed at 5.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from common.settings import PROJECT_ROOT

QUESTIONS = PROJECT_ROOT / "rag" / "eval" / "questions.yaml"


def hit(item: dict[str, Any], collection: str, source: str, section: str) -> bool:
    if "expected_category" in item:
        return collection == item["collection"] and section == item["expected_category"]
    return bool(source == item["expected_source"])


async def evaluate(helio: Any, questions: list[dict[str, Any]]) -> dict[str, Any]:
    from serve_app.ask_models import AskRequest

    by_collection: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    missed = []
    for item in questions:
        request = AskRequest(question=item["question"])
        prepared = await helio.prepare(request)
        top = prepared.retrieved[:5]
        found = any(hit(item, p.collection, p.source, p.section) for p in top)
        response = await helio.ask(request)
        sections = {(p.collection, p.id): p.section for p in prepared.retrieved}
        cited = any(
            hit(item, c.collection, c.source, sections.get((c.collection, c.id), ""))
            for c in response.citations
        )
        by_collection[item["collection"]].append((found, cited))
        if not found:
            missed.append(item["id"])

    def rates(results: list[tuple[bool, bool]]) -> dict[str, float]:
        return {
            "questions": len(results),
            "hit_rate_at_5": round(sum(f for f, _ in results) / len(results), 3),
            "cited_share": round(sum(c for _, c in results) / len(results), 3),
        }

    every = [result for results in by_collection.values() for result in results]
    return {
        **rates(every),
        "per_collection": {name: rates(results) for name, results in sorted(by_collection.items())},
        "missed_at_5": missed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.eval_ask", description=__doc__)
    parser.add_argument("--engine", choices=["extractive", "llama_cpp"], default="extractive")
    parser.add_argument("--products", type=int, default=1500, help="size of the sample catalog")
    args = parser.parse_args()

    from catalog.sample_data import write_sample
    from common.embedded import init_ray
    from common.settings import Settings
    from common.vectors.edge import EdgeVectorStore
    from models.chat import ChatEngine
    from models.embedders import EmbedderConfig, SentenceTransformerEmbedder
    from models.fallback import FallbackChain
    from ray_jobs import catalog_etl, embed_catalog, knowledge_bases
    from ray_jobs.progress import quiet_ray_data, step
    from serve_app.ask import AskSettings, HelioAssistant
    from serve_app.config import AskOptions
    from serve_app.index import LocalVectorIndex
    from serve_app.search import CatalogSearch

    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="ysh-eval-") as scratch:
        root = Path(scratch)
        settings = Settings(data_dir=root)
        init_ray(settings)
        quiet_ray_data()
        with step(f"sample catalog of {args.products} products: ETL"):
            write_sample(root / "feeds", seed=42, products=args.products)
            etl = catalog_etl.CatalogEtlConfig(source=str(root / "feeds"), feeds_config=settings.feeds_config)
            catalog_etl.run(etl, settings)
        store = EdgeVectorStore(root / "index")
        minilm = SentenceTransformerEmbedder(EmbedderConfig())
        with step("embed the catalog"):
            embed_catalog.run(embed_catalog.EmbedJobConfig(), settings, store)
        with step("knowledge bases"):
            config = knowledge_bases.KnowledgeJobConfig(inline_max_texts=100_000)
            knowledge_bases.run(
                config, settings, store, knowledge_bases.TextEncoder(config, settings, [minilm])
            )

        async def embed(text: str) -> list[float]:
            return [float(x) for x in minilm.embed([text])[0]]

        engines: list[ChatEngine] = []
        if args.engine == "llama_cpp":
            from models.llama_cpp_engine import LlamaCppConfig, LlamaCppEngine

            engines.append(LlamaCppEngine(LlamaCppConfig(n_threads=2)))
        index = LocalVectorIndex(store)
        catalog = CatalogSearch(
            embed=embed,
            index=index,
            vector_name=minilm.name,
            brands_refresh_s=3600,
            candidates=100,
            rank_pool=50,
        )
        helio = HelioAssistant(
            embed=embed,
            index=index,
            chain=FallbackChain(engines),
            options=AskSettings(vector_name=minilm.name, **AskOptions().model_dump()),
            catalog_search=catalog,
        )
        with step(f"ask {len(questions)} questions ({args.engine})"):
            results = asyncio.run(evaluate(helio, questions))
        store.close()
        import pgserver

        pgserver.get_server(settings.postgres_dir).cleanup()
    print(json.dumps({"engine": args.engine, **results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
