"""The index syncer: price and stock changes reach search and Hélio's pricing passages within seconds.

    python -m ray_jobs.index_sync [start]   # the detached actor (make run starts it)
    python -m ray_jobs.index_sync status    # changes applied, pending, lag
    python -m ray_jobs.index_sync once      # apply what is pending now, in this process, and exit
    python -m ray_jobs.index_sync stop

Every write to `offers` (the feed ETL, the ERP sync, the Kafka price consumer) leaves a row in the
`offer_changes` feed in its own transaction, and a NOTIFY at commit (common/sql/schema.sql). One
long-lived actor LISTENs, and on each notification (or every `poll_s`, the catch-up that also covers a
lost notification or a restart) applies the pending rows in batches: the catalog point's payload (price,
stock, the `in_stock` filter, who sells it) is rewritten when only offers moved, and the product's
pricing passages are rewritten with the catalog's vectors — nothing is embedded. A product whose text
changed, or that is not in the index yet, is left to the embedding job; one that left the catalog leaves
the index. `/recommend` and `/quote` read offers from Postgres. The age of the oldest pending change is
the `helio_freshness_lag_s` gauge and `/health`'s `freshness`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any

import psycopg
import ray
from pydantic import BaseModel, Field

from catalog.documents import INDEX_STATE_FIELDS, index_document, indexed_payload, plan_index_update
from common import catalog_store, metrics, postgres
from common.embedded import (
    connect_to_cluster,
    long_lived_actor,
)
from common.resources import Resources
from common.settings import Settings, get_settings
from common.yaml_config import YamlConfig
from kernel.schemas import CATALOG_COLLECTION, PRICING_COLLECTION
from kernel.vectors import VectorStore
from ray_jobs.background import BackgroundLoop, stop_or_show
from ray_jobs.indexing import EmbedJobConfig, OfferKey, embedder_configs, sync_pricing

ACTOR_NAME = "helio-index-sync"
CHANNEL = "offer_changes"  # the NOTIFY channel of the offers change feed
COLLECTIONS = (CATALOG_COLLECTION, PRICING_COLLECTION)
log = logging.getLogger(__name__)


class IndexSyncConfig(YamlConfig):
    batch_size: int = Field(default=500, ge=1, description="Changes applied per batch.")
    poll_s: float = Field(
        default=5.0, gt=0, description="Longest wait between two catch-up reads when no NOTIFY comes."
    )
    keep_applied_s: float = Field(
        default=86400, ge=0, description="How long applied changes are kept (a batch writer re-applies them)."
    )
    reconnect_s: float = Field(default=5.0, gt=0, description="Pause after Postgres or the index failed.")


class SyncCounts(BaseModel):
    changes: int = Field(default=0, description="Change-feed rows applied.")
    payloads: int = Field(default=0, description="Catalog points whose payload was rewritten.")
    removed: int = Field(default=0, description="Catalog points of products that left the catalog.")
    waiting_for_embedding: int = Field(
        default=0, description="Products not in the index yet, or whose text changed: the embedding job's."
    )
    passages_written: int = 0
    passages_removed: int = 0

    def add(self, other: SyncCounts) -> None:
        for name in SyncCounts.model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class IndexSyncStatus(BaseModel):
    running: bool
    applied: SyncCounts
    pending: int
    lag_s: float = Field(description="Age of the oldest pending change; 0 when caught up.")
    last_error: str | None


def apply_pending(
    conn: psycopg.Connection[Any], store: VectorStore, settings: Settings, batch_size: int
) -> SyncCounts:
    """One batch of the oldest pending changes, applied to both collections and marked applied."""
    changes = catalog_store.pending_offer_changes(conn, limit=batch_size)
    counts = SyncCounts(changes=len(changes))
    if not changes:
        return counts
    keys: list[OfferKey] = sorted({(c["product_id"], c["distributor"], c["sku"]) for c in changes})
    product_ids = sorted({product_id for product_id, _, _ in keys})
    documents = [
        index_document(row) for row in catalog_store.catalog_for_index(conn, product_ids=product_ids)
    ]
    stored = store.payloads(CATALOG_COLLECTION, product_ids, INDEX_STATE_FIELDS)
    # No vector names asked: a point lacking a configured model is the embedding job's, not ours.
    plan = plan_index_update(documents, stored, vector_names=())
    for document in plan.to_repayload:
        embedded_with = stored[document.id].get("embedded_with") or ()
        store.set_payload(CATALOG_COLLECTION, document.id, indexed_payload(document, embedded_with))
    store.delete(CATALOG_COLLECTION, plan.to_delete)
    pricing = sync_pricing(store, embedder_configs(EmbedJobConfig(), settings), conn, changed=keys)
    catalog_store.mark_offer_changes_applied(conn, ids=[c["id"] for c in changes])
    counts.payloads, counts.removed = len(plan.to_repayload), len(plan.to_delete)
    counts.waiting_for_embedding = len(plan.to_embed)
    counts.passages_written = pricing["added"] + pricing["updated"]
    counts.passages_removed = pricing["removed"]
    return counts


def apply_all_pending(
    conn: psycopg.Connection[Any], store: VectorStore, settings: Settings, batch_size: int
) -> SyncCounts:
    """Batches until nothing is pending; the lag gauge after each."""
    total = SyncCounts()
    while True:
        counts = apply_pending(conn, store, settings, batch_size)
        total.add(counts)
        publish_lag(conn)
        if counts.changes < batch_size:
            return total


def publish_lag(conn: psycopg.Connection[Any]) -> None:
    _pending, lag = catalog_store.offer_change_backlog(conn)
    for collection in COLLECTIONS:
        metrics.set_freshness_lag(collection, lag)


class IndexSyncActor(BackgroundLoop):
    """The LISTEN loop."""

    def __init__(self, settings: Settings, config: IndexSyncConfig) -> None:
        super().__init__("index-sync", config.reconnect_s)
        self._settings, self._config = settings, config
        self._resources = Resources(settings)
        with self._resources.connect() as conn:
            postgres.migrate(conn)
        self._store = self._resources.vectors
        self._applied = SyncCounts()
        self._start_loop()

    def status(self) -> IndexSyncStatus:
        with self._resources.connect() as conn:
            pending, lag = catalog_store.offer_change_backlog(conn)
        with self._lock:
            return IndexSyncStatus(
                running=self._running,
                applied=self._applied.model_copy(),
                pending=pending,
                lag_s=lag,
                last_error=self._last_error,
            )

    def _serve(self) -> None:
        dsn = self._resources.dsn
        with psycopg.connect(dsn, autocommit=True) as listener, self._resources.connect() as conn:
            conn.autocommit = True  # each batch commits its own marks
            listener.execute(f"LISTEN {CHANNEL}")
            forget_due = 0.0
            while not self._stopping.is_set():
                counts = apply_all_pending(conn, self._store, self._settings, self._config.batch_size)
                with self._lock:
                    self._applied.add(counts)
                if time.monotonic() >= forget_due:
                    catalog_store.forget_applied_offer_changes(conn, older_than_s=self._config.keep_applied_s)
                    forget_due = time.monotonic() + 3600
                # Wake at the first NOTIFY (several commits at once come as one batch), or poll_s at most.
                for _ in listener.notifies(timeout=self._config.poll_s, stop_after=1):
                    pass


def start(settings: Settings, config: IndexSyncConfig | None = None) -> Any:
    """The syncer's actor, created if it does not run yet (Ray must be connected)."""
    handle: Any = long_lived_actor(IndexSyncActor, ACTOR_NAME).remote(
        settings, config or IndexSyncConfig()
    )  # Any: Ray's stubs do not know the actor's methods
    ray.get(handle.status.remote())  # surfaces a failed start (no database) here
    return handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ray_jobs.index_sync",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", nargs="?", default="start", choices=("start", "status", "once", "stop"))
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        connect_to_cluster(settings)
    except ConnectionError as error:
        print(error)
        return 2
    if args.command == "once":
        resources = Resources(settings)
        with resources.connect() as conn:
            conn.autocommit = True
            postgres.migrate(conn)
            counts = apply_all_pending(conn, resources.vectors, settings, IndexSyncConfig().batch_size)
        print(counts.model_dump_json())
        return 0
    if args.command == "start":
        start(settings)
    return stop_or_show(ACTOR_NAME, "status" if args.command == "start" else args.command)


if __name__ == "__main__":
    sys.exit(main())
