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
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import ray
from pydantic import Field
from ray.util.annotations import RayDeprecationWarning
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
from common.metrics import observe_embedding
from common.settings import Settings, get_settings
from common.vectors.owner import RemoteVectorStore, vector_index
from common.yaml_config import YamlConfig
from kernel.schemas import CATALOG_COLLECTION, LEXICAL_VECTOR
from kernel.vectors import CollectionSpec, VectorPoint, VectorStore
from models.embedders import OPENAI_SMALL, Embedder, EmbedderConfig, load_embedder
from ray_jobs.progress import quiet_ray_data, say, step
from ray_jobs.runner import job_run

JOB_NAME = "embed_catalog"
KEYWORD_FIELDS = ("category", "brand", "product_id")
FLOAT_FIELDS = ("power_w", "price_brl")


class EmbedJobConfig(YamlConfig):
    embedder: EmbedderConfig = Field(default_factory=EmbedderConfig, description="The local model.")
    use_openai: bool = Field(
        default=True, description="Also fill `text-embedding-3-small` vectors when OPENAI_API_KEY is set."
    )
    batch_size: int = Field(default=128, ge=1, description="Rows per Ray Data batch sent to an actor.")
    min_actors: int = Field(default=1, ge=1, description="Actor pool lower bound.")
    max_actors: int = Field(default=2, ge=1, description="Actor pool upper bound.")
    num_cpus_per_actor: float = Field(default=1, ge=0, description="Ray sets torch threads to this.")
    num_gpus_per_actor: float = Field(default=0, ge=0, description="1 (or a fraction) on GPU workers.")
    write_batch_size: int = Field(default=256, ge=1, description="Points per upsert call to the index.")


def embedder_configs(config: EmbedJobConfig, settings: Settings) -> list[EmbedderConfig]:
    configs = [config.embedder]
    if config.use_openai and settings.openai_api_key:
        configs.append(OPENAI_SMALL)
    return configs


def catalog_collection(configs: list[EmbedderConfig]) -> CollectionSpec:
    return CollectionSpec(
        name=CATALOG_COLLECTION,
        dense={c.vector_name: c.dim for c in configs},
        sparse=(LEXICAL_VECTOR,),
        keyword_fields=KEYWORD_FIELDS,
        float_fields=FLOAT_FIELDS,
    )


class EmbedBatch:
    """Ray Data actor: loads every configured model once, then embeds batches of product texts."""

    def __init__(self, configs: list[dict[str, Any]], openai_api_key: str | None, openai_base_url: str):
        self.embedders: list[Embedder] = [
            load_embedder(EmbedderConfig.model_validate(c), openai_api_key, openai_base_url) for c in configs
        ]

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        texts = [str(text) for text in batch["text"]]
        out: dict[str, Any] = {"id": batch["id"]}
        for embedder in self.embedders:
            started = time.perf_counter()
            out[embedder.name] = embedder.embed(texts)
            observe_embedding(embedder.name, len(texts), time.perf_counter() - started)
        return out


def run(config: EmbedJobConfig, settings: Settings, store: VectorStore | None = None) -> dict[str, int]:
    configs = embedder_configs(config, settings)
    names = [c.vector_name for c in configs]
    store = store or RemoteVectorStore(vector_index(settings))
    with job_run(settings, JOB_NAME) as run:
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


def embedded_batches(
    items: Sequence[tuple[str, str]],
    config: EmbedJobConfig,
    configs: list[EmbedderConfig],
    settings: Settings,
) -> Iterator[dict[str, np.ndarray]]:
    """(id, text) pairs through the Ray Data actor pool: numpy batches of `write_batch_size` rows, with
    the column "id" and one column of vectors per model (named after its vector)."""
    quiet_ray_data()
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    # Batches of similar length pad little: the encoder's cost follows the longest text in a batch.
    by_length = sorted(items, key=lambda item: len(item[1]))
    with warnings.catch_warnings():
        # Ray Data hands its actors an object-store argument, which Ray says (at error level, on the
        # console) cannot survive an actor restart (ray-project/ray#57733): no restarts then; a crashed
        # actor fails the run and the scheduler's retry policy runs it again. `max_restarts` is only
        # taken through the remote args that Ray 2.64 drops (Ray is pinned at 2.60): its warning is ours.
        warnings.simplefilter("ignore", RayDeprecationWarning)
        dataset = ray.data.from_items([{"id": i, "text": t} for i, t in by_length]).map_batches(
            EmbedBatch,
            fn_constructor_kwargs={
                "configs": [c.model_dump() for c in configs],
                "openai_api_key": key,
                "openai_base_url": settings.openai_base_url,
            },
            batch_size=config.batch_size,
            compute=ray.data.ActorPoolStrategy(min_size=config.min_actors, max_size=config.max_actors),
            num_cpus=config.num_cpus_per_actor,
            num_gpus=config.num_gpus_per_actor,
            max_restarts=0,
        )
    yield from dataset.iter_batches(batch_size=config.write_batch_size, batch_format="numpy")


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
    counts = run(config, settings)
    say(", ".join(f"{key}: {value}" for key, value in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
