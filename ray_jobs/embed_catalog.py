"""Embedding job: catalog products in Postgres → collection `helio-catalog` in the vector index.

    python -m ray_jobs.embed_catalog [--config embed.yaml]

A Ray Data actor pool loads each model once per actor and embeds only products whose text changed
(content hash) or that lack a configured model's vector; price/stock changes only rewrite payloads;
products that left the catalog leave the index. Each model writes its own named vector.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tqdm import tqdm

from catalog.documents import (
    INDEX_STATE_FIELDS,
    IndexDocument,
    index_document,
    indexed_payload,
    plan_index_update,
)
from catalog.lexical import lexical_vector
from common import catalog_store, postgres
from common.embedded import init_ray
from common.resources import Resources
from common.settings import Settings, get_settings
from kernel.schemas import CATALOG_COLLECTION, LEXICAL_VECTOR
from kernel.vectors import VectorPoint, VectorStore
from models.embedders import EmbedderConfig
from ray_jobs.indexing import EmbedJobConfig, catalog_collection, embedded_batches, embedder_configs
from ray_jobs.progress import say, step
from ray_jobs.runner import job_run

JOB_NAME = "embed_catalog"


def run(config: EmbedJobConfig, resources: Resources) -> dict[str, int]:
    settings, store = resources.settings, resources.vectors
    configs = embedder_configs(config, settings)
    names = [c.vector_name for c in configs]
    with job_run(resources, JOB_NAME) as run:
        with step("read catalog and index state"):
            read_at = catalog_store.database_now(run.conn)
            documents = {d.id: d for d in map(index_document, catalog_store.catalog_for_index(run.conn))}
            store.ensure_collection(catalog_collection(configs))
            stored = dict(store.scan(CATALOG_COLLECTION, INDEX_STATE_FIELDS))
            plan = plan_index_update(documents.values(), stored, names)
        say(
            f"  {len(documents)} products: {len(plan.to_embed)} to embed, {len(plan.to_repayload)} "
            f"payload updates, {len(plan.to_delete)} to remove, {plan.unchanged} unchanged"
        )
        with step("update index"):
            store.delete(CATALOG_COLLECTION, plan.to_delete)
            for document in plan.to_repayload:
                store.set_payload(CATALOG_COLLECTION, document.id, indexed_payload(document, names))
            embedded = _embed(plan.to_embed, documents, config, configs, settings, store)
            # Prices the change feed applied while this run wrote older ones apply again.
            catalog_store.reapply_offer_changes_since(run.conn, since=read_at)
        counts = {
            "products": len(documents),
            "embedded": embedded,
            "payload_updated": len(plan.to_repayload),
            "removed": len(plan.to_delete),
            "unchanged": plan.unchanged,
        }
        rows = postgres.RowCounts(
            read=len(documents),
            accepted=len(documents),
            written=embedded + len(plan.to_repayload) + len(plan.to_delete),
            rejected=0,
        )
        run.report(counts, rows)
    return counts


def _embed(
    to_embed: list[IndexDocument],
    documents: dict[str, IndexDocument],
    config: EmbedJobConfig,
    configs: list[EmbedderConfig],
    settings: Settings,
    store: VectorStore,
) -> int:
    if not to_embed:
        return 0
    names = [c.vector_name for c in configs]
    started = time.perf_counter()
    written = 0
    items = [(d.id, d.text) for d in to_embed]
    with tqdm(total=len(to_embed), unit="product", desc="  embedding", file=sys.stderr) as bar:
        for batch in embedded_batches(items, config, configs, settings):
            points = []
            for row, point_id in enumerate(batch["id"]):
                document = documents[str(point_id)]
                points.append(
                    VectorPoint(
                        id=document.id,
                        dense={name: batch[name][row].tolist() for name in names},
                        sparse={LEXICAL_VECTOR: lexical_vector(document.text)},
                        payload=indexed_payload(document, names),
                    )
                )
            store.upsert(CATALOG_COLLECTION, points)
            written += len(points)
            bar.update(len(points))
    say(f"  {written / (time.perf_counter() - started):.0f} products/s")
    return written


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m ray_jobs.embed_catalog", description=__doc__)
    parser.add_argument("--config", type=Path, help="YAML with an EmbedJobConfig (model, pool, GPUs)")
    args = parser.parse_args(argv)
    config = EmbedJobConfig.from_yaml(args.config) if args.config else EmbedJobConfig()
    init_ray(settings)
    counts = run(config, Resources(settings))
    say(", ".join(f"{key}: {value}" for key, value in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
