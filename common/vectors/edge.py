"""Qdrant Edge backend: the Qdrant engine in this process, one shard per collection under a root folder.

A shard can be open in one process only (a second open fails on the WAL lock), so when several
processes need the index, `owner.VectorIndexActor` holds this store and serves them all.
Every write is flushed before it returns: a crash or restart reloads exactly what callers saw.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as edge

from kernel.vectors import (
    CollectionSpec,
    FacetCount,
    FilterVocabulary,
    Hit,
    PayloadFilter,
    SearchRequest,
    SparseVector,
    VectorPoint,
    build_filter,
    in_rank_order,
)

SHARD_CONFIG_FILE = "edge_config.json"  # written by the engine; marks a folder as a shard
SCAN_PAGE_SIZE = 1000


def _match_value(value: str | int | bool) -> edge.MatchValue:
    # qdrant-edge-py 0.9.0 reads a Python bool as the integer 0/1, which never matches a stored
    # bool; numpy.bool_ is not an int, so the binding reads it as a bool.
    return edge.MatchValue(np.bool_(value) if isinstance(value, bool) else value)  # type: ignore[arg-type]


EDGE_FILTERS = FilterVocabulary(
    filter=edge.Filter,
    field_condition=edge.FieldCondition,
    match_value=_match_value,
    match_any=edge.MatchAny,
    value_range=edge.RangeFloat,
)


def _edge_vector(vector: list[float] | SparseVector) -> list[float] | edge.SparseVector:
    if isinstance(vector, SparseVector):
        return edge.SparseVector(vector.indices, vector.values)
    return vector


def _dense(vector: Any, names: Sequence[str]) -> dict[str, list[float]]:
    stored = vector if isinstance(vector, dict) else {}
    return {name: list(stored[name]) for name in names if name in stored}


class EdgeVectorStore:
    """Opens every shard under `root` at once, so a second owner fails here rather than mid-request."""

    def __init__(self, root: Path) -> None:
        self._root = root
        root.mkdir(parents=True, exist_ok=True)
        self._shards: dict[str, edge.EdgeShard] = {}
        for path in sorted(root.iterdir()):
            if (path / SHARD_CONFIG_FILE).is_file():
                self._shards[path.name] = edge.EdgeShard.load(str(path))

    def _shard(self, collection: str) -> edge.EdgeShard:
        try:
            return self._shards[collection]
        except KeyError:
            raise LookupError(f"no vector collection {collection!r} under {self._root}") from None

    def _write(self, collection: str, *operations: edge.UpdateOperation) -> None:
        shard = self._shard(collection)
        for operation in operations:
            shard.update(operation)
        shard.flush()

    def ensure_collection(self, spec: CollectionSpec) -> None:
        cosine, idf, schema = edge.Distance.Cosine, edge.Modifier.Idf, edge.PayloadSchemaType
        if spec.name not in self._shards:
            config = edge.EdgeConfig(
                vectors={name: edge.EdgeVectorParams(size, cosine) for name, size in spec.dense.items()},
                sparse_vectors={name: edge.EdgeSparseVectorParams(modifier=idf) for name in spec.sparse},
            )
            self._shards[spec.name] = edge.EdgeShard.create(str(self._root / spec.name), config)
        # Each operation is a no-op when the vector or index already exists as asked; the engine
        # refuses a known vector name with another dimension, so vector spaces never mix.
        operation = edge.UpdateOperation
        self._write(
            spec.name,
            *(operation.create_dense_vector(name, size, cosine) for name, size in spec.dense.items()),
            *(operation.create_sparse_vector(name, idf) for name in spec.sparse),
            *(operation.create_field_index(field, schema.Keyword) for field in spec.keyword_fields),
            *(operation.create_field_index(field, schema.Float) for field in spec.float_fields),
            *(operation.create_field_index(field, schema.Bool) for field in spec.bool_fields),
        )

    def upsert(self, collection: str, points: Sequence[VectorPoint]) -> None:
        edge_points = [
            edge.Point(
                point.id,
                {
                    **point.dense,
                    **{name: _edge_vector(vector) for name, vector in point.sparse.items()},
                },
                point.payload,
            )
            for point in points
        ]
        self._write(collection, edge.UpdateOperation.upsert_points(edge_points))

    def set_payload(self, collection: str, point_id: str, payload: dict[str, Any]) -> None:
        self._write(collection, edge.UpdateOperation.overwrite_payload([point_id], payload))

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        self._write(collection, edge.UpdateOperation.delete_points(list(ids)))

    def search(self, collection: str, request: SearchRequest) -> list[Hit]:
        payload_filter = build_filter(request.filter, EDGE_FILTERS)
        branches = [
            edge.Query.Nearest(_edge_vector(vector), using=name) for name, vector in request.branches()
        ]
        if len(branches) == 1:
            query = edge.QueryRequest(
                limit=request.limit,
                query=branches[0],
                filter=payload_filter,
                with_payload=request.with_payload,
            )
        else:
            query = edge.QueryRequest(
                limit=request.limit,
                query=edge.Fusion.Rrf(k=request.rrf_k),  # type: ignore[arg-type]  # the stub omits Fusion's kinds
                prefetches=[
                    edge.Prefetch(request.candidates, branch, filter=payload_filter) for branch in branches
                ],
                with_payload=request.with_payload,
            )
        return in_rank_order(
            [Hit(str(p.id), p.score, p.payload or {}) for p in self._shard(collection).query(query)]
        )

    def scan(self, collection: str, fields: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        shard = self._shard(collection)
        offset: edge.PointId | None = None
        while True:
            records, offset = shard.scroll(
                edge.ScrollRequest(offset=offset, limit=SCAN_PAGE_SIZE, with_payload=list(fields) or False)
            )
            for record in records:
                yield str(record.id), record.payload or {}
            if offset is None:
                return

    def vectors(
        self, collection: str, ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, dict[str, list[float]]]:
        records = self._shard(collection).retrieve(list(ids), False, list(names)) if ids else []
        return {str(r.id): _dense(r.vector, names) for r in records}

    def payloads(
        self, collection: str, ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        records = self._shard(collection).retrieve(list(ids), list(fields), False) if ids else []
        return {str(r.id): dict(r.payload or {}) for r in records}

    def facet(self, collection: str, field: str, limit: int = 1000) -> list[str]:
        return [str(hit.value) for hit in self.facet_counts(collection, field, PayloadFilter(), limit)]

    def facet_counts(
        self, collection: str, field: str, payload_filter: PayloadFilter, limit: int
    ) -> list[FacetCount]:
        request = edge.FacetRequest(
            key=field, limit=limit, exact=True, filter=build_filter(payload_filter, EDGE_FILTERS)
        )
        return [FacetCount(hit.value, hit.count) for hit in self._shard(collection).facet(request).hits]

    def count(self, collection: str) -> int:
        return self._shard(collection).count(edge.CountRequest(exact=True))

    def optimize(self, collection: str) -> bool:
        """Build the HNSW graph of the points written so far; False when there was nothing to do. Not part
        of the port and not called by the platform: Edge runs no optimizer of its own, and this call holds
        the GIL throughout (≈40 s at 100k products here), so the owner actor would answer no search
        meanwhile. `make bench-scale` measures what it changes; a Qdrant server indexes in the background."""
        return bool(self._shard(collection).optimize())

    def close(self) -> None:
        for shard in self._shards.values():
            shard.flush()
            shard.close()
        self._shards.clear()
