"""What the indexing jobs share: the models a job embeds with, the collections' shapes, the Ray Data
embedding pool, and the pricing passages kept in step with the offers.

A library of `ray_jobs`, not a job: embed_catalog, knowledge_bases and index_sync import it, and no job
imports another (make lint).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import psycopg
import ray
from pydantic import Field
from ray.util.annotations import RayDeprecationWarning

# A pricing passage's sparse vector must be the one catalog queries use: catalog.lexical's, not rag's.
from catalog.lexical import lexical_vector
from common import catalog_store, offer_store
from common.metrics import observe_embedding
from common.settings import Settings
from common.yaml_config import YamlConfig
from kernel.schemas import CATALOG_COLLECTION, LEXICAL_VECTOR, PRICING_COLLECTION
from kernel.vectors import CollectionSpec, VectorPoint, VectorStore
from models.embedders import OPENAI_SMALL, Embedder, EmbedderConfig, load_embedder
from rag import pricing
from ray_jobs.progress import quiet_ray_data

OfferKey = tuple[str, str, str]  # product_id, distributor, sku: a row of the offers change feed


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
        keyword_fields=("category", "brand", "product_id", "power_band"),
        float_fields=("power_w", "price_brl"),
        bool_fields=("in_stock",),  # filtered on, and counted for the storefront's panel
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


def document_collection(name: str, configs: list[EmbedderConfig]) -> CollectionSpec:
    return CollectionSpec(
        name=name,
        dense={c.vector_name: c.dim for c in configs},
        sparse=(LEXICAL_VECTOR,),
        keyword_fields=("source",),
    )


def pricing_collection(configs: list[EmbedderConfig]) -> CollectionSpec:
    return CollectionSpec(
        name=PRICING_COLLECTION,
        dense={c.vector_name: c.dim for c in configs},
        sparse=(LEXICAL_VECTOR,),
        keyword_fields=("product_id", "distributor", "brand", "category"),
        float_fields=("price_brl",),
    )


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


def sync_pricing(
    store: VectorStore,
    configs: list[EmbedderConfig],
    conn: psycopg.Connection[Any],
    changed: Sequence[OfferKey] | None = None,
) -> dict[str, int]:
    """helio-pricing in step with the offers: every offer, or only the products and offers of `changed`
    ((product_id, distributor, sku) from the offers change feed, whose removed offers leave)."""
    names = [c.vector_name for c in configs]
    product_ids = None if changed is None else sorted({product_id for product_id, _, _ in changed})
    read_at = catalog_store.database_now(conn)
    products, offers = offer_store.catalog_with_offers(conn, in_stock_only=False, product_ids=product_ids)
    store.ensure_collection(catalog_collection(configs))
    store.ensure_collection(pricing_collection(configs))
    passages = pricing.pricing_passages(products, offers)
    catalog_fields = ("content_hash", "embedded_with")
    if product_ids is None:
        catalog_state = dict(store.scan(CATALOG_COLLECTION, catalog_fields))
        stored = dict(store.scan(PRICING_COLLECTION, pricing.INDEX_STATE_FIELDS))
    else:
        catalog_state = store.payloads(CATALOG_COLLECTION, product_ids, catalog_fields)
        ids = {p.id for p in passages} | {pricing.passage_id(d, sku) for _, d, sku in changed or ()}
        stored = store.payloads(PRICING_COLLECTION, sorted(ids), pricing.INDEX_STATE_FIELDS)
    catalog_hashes = {
        point_id: f"{state.get('content_hash')}:{','.join(sorted(state.get('embedded_with') or ()))}"
        for point_id, state in catalog_state.items()
    }
    plan = pricing.plan_pricing(passages, stored, catalog_hashes)
    missing = plan.no_vector
    for start in range(0, len(plan.to_write), 256):
        part = plan.to_write[start : start + 256]
        vectors = store.vectors(CATALOG_COLLECTION, sorted({p.product_id for p in part}), names)
        points = [
            VectorPoint(
                id=p.id,
                dense=vectors[p.product_id],
                sparse={LEXICAL_VECTOR: lexical_vector(p.text)},
                payload={
                    **p.payload,
                    "content_hash": p.content_hash,
                    "catalog_hash": catalog_hashes[p.product_id],
                    "embedded_with": sorted(vectors[p.product_id]),
                },
            )
            for p in part
            if vectors.get(p.product_id)
        ]
        missing += len(part) - len(points)  # left the catalog between the scan and now
        store.upsert(PRICING_COLLECTION, points)
    store.delete(PRICING_COLLECTION, plan.to_delete)
    if product_ids is None:
        catalog_store.reapply_offer_changes_since(conn, since=read_at)
    return {
        "added": plan.added,
        "updated": plan.updated,
        "unchanged": plan.unchanged,
        "removed": len(plan.to_delete),
        "rejected": 0,
        "no_vector": missing,
    }
