"""The one process that owns the vector index: a named, detached Ray actor.

A Qdrant Edge shard can be open in one process only, so the embedding job (writes) and the Serve
search deployment (reads) both go through this actor. Every write is flushed before it returns, so
when Ray restarts the actor it reloads the shards from disk with everything callers were told was
written. With a Qdrant server (QDRANT_URL) the actor is a pass-through and callers may equally open
the store themselves with `factory.open_vector_store`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

import ray
from ray.actor import ActorHandle

from common.embedded import RAY_NAMESPACE, long_lived_actor
from common.settings import Settings
from common.vectors.factory import open_vector_store
from kernel.vectors import (
    CollectionSpec,
    FacetCount,
    FacetQuery,
    Hit,
    PayloadFilter,
    SearchRequest,
    VectorPoint,
    WideningSearch,
    count_facets,
    search_widening,
)

ACTOR_NAME = "helio-vector-index"
# Threads serving calls at once: searches release the GIL inside the engine, so they run in
# parallel and are never queued behind a long upsert.
MAX_CONCURRENCY = 16
# Calls in flight when the actor dies are replayed on the restarted one: every call is idempotent.
MAX_TASK_RETRIES = 3


def _store_location(settings: Settings) -> str:
    return settings.qdrant_url or str(settings.vectors_dir.resolve())


class VectorIndexActor:
    """Holds the store. Reads run concurrently on the actor's threads; writes take turns."""

    def __init__(self, settings: Settings) -> None:
        self._location = _store_location(settings)
        self._store = open_vector_store(settings)
        # Edge shards tolerate concurrent reads and writes, but ensure_collection also registers
        # new shards in the store; one writer at a time keeps that and the flushes simple.
        self._write_lock = threading.Lock()

    def location(self) -> str:
        """The Qdrant URL or Edge folder this actor serves."""
        return self._location

    def ensure_collection(self, spec: CollectionSpec) -> None:
        with self._write_lock:
            self._store.ensure_collection(spec)

    def upsert(self, collection: str, points: Sequence[VectorPoint]) -> None:
        with self._write_lock:
            self._store.upsert(collection, points)

    def set_payload(self, collection: str, point_id: str, payload: dict[str, Any]) -> None:
        with self._write_lock:
            self._store.set_payload(collection, point_id, payload)

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        with self._write_lock:
            self._store.delete(collection, ids)

    def search(self, collection: str, request: SearchRequest) -> list[Hit]:
        return self._store.search(collection, request)

    def search_widening(self, collection: str, widening: WideningSearch) -> list[Hit]:
        return search_widening(partial(self._store.search, collection), widening)

    def scan(self, collection: str, fields: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
        return list(self._store.scan(collection, fields))  # a generator cannot cross processes

    def vectors(
        self, collection: str, ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, dict[str, list[float]]]:
        return self._store.vectors(collection, ids, names)

    def payloads(
        self, collection: str, ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        return self._store.payloads(collection, ids, fields)

    def facet(self, collection: str, field: str, limit: int = 1000) -> list[str]:
        return self._store.facet(collection, field, limit)

    def facet_counts(
        self, collection: str, field: str, payload_filter: PayloadFilter, limit: int
    ) -> list[FacetCount]:
        return self._store.facet_counts(collection, field, payload_filter, limit)

    def facets(self, collection: str, query: FacetQuery) -> dict[str, list[FacetCount]]:
        return count_facets(partial(self._store.facet_counts, collection), query)

    def count(self, collection: str) -> int:
        return self._store.count(collection)


def vector_index(settings: Settings) -> ActorHandle:
    """The owner actor, started on first use and shared by every job and deployment of the cluster."""
    options: dict[str, Any] = {"max_concurrency": MAX_CONCURRENCY, "max_task_retries": MAX_TASK_RETRIES}
    if not settings.qdrant_url:
        # Edge shards live on one node's disk; the head node is where the embedded default keeps them.
        options["resources"] = {"node:__internal_head__": 0.001}
    # Any: Ray's stubs do not know the actor's methods.
    handle: Any = long_lived_actor(VectorIndexActor, ACTOR_NAME, **options).remote(settings)
    serving = ray.get(handle.location.remote())
    if serving != _store_location(settings):
        raise RuntimeError(
            f"actor {ACTOR_NAME!r} already serves {serving}, not {_store_location(settings)}; "
            "kill it (ray.kill) before pointing the platform at another vector store"
        )
    return handle


def stop_vector_index(timeout_s: float = 30.0) -> None:
    """Stops the owner actor for good, if one runs, and waits until its name and shards are free."""
    try:
        handle = ray.get_actor(ACTOR_NAME, namespace=RAY_NAMESPACE)
    except ValueError:
        return
    ray.kill(handle, no_restart=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            ray.get_actor(ACTOR_NAME, namespace=RAY_NAMESPACE)
        except ValueError:
            return
        time.sleep(0.1)
    raise TimeoutError(f"actor {ACTOR_NAME!r} still registered {timeout_s:.0f} s after ray.kill")


class RemoteVectorStore:
    """The VectorStore interface over the owner actor, so callers take a local store or this alike."""

    def __init__(self, handle: ActorHandle) -> None:
        self._handle: Any = handle  # Any: Ray's stubs do not know the actor's methods

    def ensure_collection(self, spec: CollectionSpec) -> None:
        ray.get(self._handle.ensure_collection.remote(spec))

    def upsert(self, collection: str, points: Sequence[VectorPoint]) -> None:
        ray.get(self._handle.upsert.remote(collection, points))

    def set_payload(self, collection: str, point_id: str, payload: dict[str, Any]) -> None:
        ray.get(self._handle.set_payload.remote(collection, point_id, payload))

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        ray.get(self._handle.delete.remote(collection, ids))

    def search(self, collection: str, request: SearchRequest) -> list[Hit]:
        return ray.get(self._handle.search.remote(collection, request))

    def scan(self, collection: str, fields: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        yield from ray.get(self._handle.scan.remote(collection, fields))

    def vectors(
        self, collection: str, ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, dict[str, list[float]]]:
        return ray.get(self._handle.vectors.remote(collection, ids, names))

    def payloads(
        self, collection: str, ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        return ray.get(self._handle.payloads.remote(collection, ids, fields))

    def facet(self, collection: str, field: str, limit: int = 1000) -> list[str]:
        return ray.get(self._handle.facet.remote(collection, field, limit))

    def facet_counts(
        self, collection: str, field: str, payload_filter: PayloadFilter, limit: int
    ) -> list[FacetCount]:
        return ray.get(self._handle.facet_counts.remote(collection, field, payload_filter, limit))

    def count(self, collection: str) -> int:
        return ray.get(self._handle.count.remote(collection))

    def close(self) -> None:
        """Nothing to release: the actor keeps the store open for its other callers."""
