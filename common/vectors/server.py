"""Qdrant server backend over qdrant-client: a real server (QDRANT_URL), or in tests its `:memory:` twin."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

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

SCAN_PAGE_SIZE = 1000

SERVER_FILTERS = FilterVocabulary(
    filter=models.Filter,
    field_condition=models.FieldCondition,
    match_value=models.MatchValue,
    match_any=models.MatchAny,
    value_range=models.Range,
)


def _server_vector(vector: list[float] | SparseVector) -> list[float] | models.SparseVector:
    if isinstance(vector, SparseVector):
        return models.SparseVector(indices=vector.indices, values=vector.values)
    return vector


@contextmanager
def _existing(collection: str) -> Iterator[None]:
    """A collection the server lacks is a LookupError, as on the Edge engine: its job has not run yet."""
    try:
        yield
    except (UnexpectedResponse, ValueError) as error:
        # A real server answers 404; the `:memory:` twin raises ValueError("Collection … not found").
        lacks = (
            error.status_code == 404
            if isinstance(error, UnexpectedResponse)
            else str(error) == f"Collection {collection} not found"
        )
        if not lacks:
            raise
        raise LookupError(f"no vector collection {collection!r} on the Qdrant server") from None


class QdrantServerVectorStore:
    def __init__(self, client: QdrantClient) -> None:
        self._client = client

    def ensure_collection(self, spec: CollectionSpec) -> None:
        if self._client.collection_exists(spec.name):
            self._add_missing_vectors(spec)
        else:
            self._client.create_collection(
                spec.name,
                vectors_config={
                    name: models.VectorParams(size=size, distance=models.Distance.COSINE)
                    for name, size in spec.dense.items()
                },
                sparse_vectors_config={
                    name: models.SparseVectorParams(modifier=models.Modifier.IDF) for name in spec.sparse
                },
            )
        for field in spec.keyword_fields:
            self._client.create_payload_index(spec.name, field, models.PayloadSchemaType.KEYWORD)
        for field in spec.float_fields:
            self._client.create_payload_index(spec.name, field, models.PayloadSchemaType.FLOAT)
        for field in spec.bool_fields:
            self._client.create_payload_index(spec.name, field, models.PayloadSchemaType.BOOL)

    def _add_missing_vectors(self, spec: CollectionSpec) -> None:
        params = self._client.get_collection(spec.name).config.params
        dense = params.vectors if isinstance(params.vectors, dict) else {}
        for name, size in spec.dense.items():
            existing = dense.get(name)
            if existing is None:
                dense_config = models.DenseVectorConfig(size=size, distance=models.Distance.COSINE)
                self._create_vector(spec.name, name, models.DenseVectorNameConfig(dense=dense_config))
            elif existing.size != size:
                # Same rule as the Edge engine: a vector name is one embedding space, never resized.
                raise ValueError(
                    f"vector {name!r} of collection {spec.name!r} already exists with dimension "
                    f"{existing.size}, not {size}; give another embedding model another vector name"
                )
        for name in set(spec.sparse) - set(params.sparse_vectors or {}):
            sparse = models.SparseVectorConfig(modifier=models.Modifier.IDF)
            self._create_vector(spec.name, name, models.SparseVectorNameConfig(sparse=sparse))

    def _create_vector(self, collection: str, name: str, config: models.VectorNameConfig) -> None:
        try:
            self._client.create_vector_name(collection, name, config)
        except UnexpectedResponse as error:
            raise RuntimeError(
                f"collection {collection!r} lacks vector {name!r} and the Qdrant server could not add it "
                f"(adding a named vector needs Qdrant >= 1.18): {error}"
            ) from error

    def upsert(self, collection: str, points: Sequence[VectorPoint]) -> None:
        structs = [
            models.PointStruct(
                id=point.id,
                vector={
                    **point.dense,
                    **{name: _server_vector(vector) for name, vector in point.sparse.items()},
                },
                payload=point.payload,
            )
            for point in points
        ]
        self._client.upsert(collection, structs, wait=True)

    def set_payload(self, collection: str, point_id: str, payload: dict[str, Any]) -> None:
        self._client.overwrite_payload(collection, payload, points=[point_id], wait=True)

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        self._client.delete(collection, models.PointIdsList(points=list(ids)), wait=True)

    def search(self, collection: str, request: SearchRequest) -> list[Hit]:
        payload_filter = build_filter(request.filter, SERVER_FILTERS)
        branches = request.branches()
        with _existing(collection):
            response = self._query(collection, request, payload_filter, branches)
        return in_rank_order([Hit(str(p.id), p.score, p.payload or {}) for p in response.points])

    def _query(
        self,
        collection: str,
        request: SearchRequest,
        payload_filter: models.Filter | None,
        branches: list[tuple[str, list[float] | SparseVector]],
    ) -> models.QueryResponse:
        if len(branches) == 1:
            [(name, vector)] = branches
            return self._client.query_points(
                collection,
                query=_server_vector(vector),
                using=name,
                query_filter=payload_filter,
                limit=request.limit,
                with_payload=request.with_payload,
            )
        return self._client.query_points(
            collection,
            prefetch=[
                models.Prefetch(
                    query=_server_vector(v), using=name, filter=payload_filter, limit=request.candidates
                )
                for name, v in branches
            ],
            query=models.RrfQuery(rrf=models.Rrf(k=request.rrf_k)),
            limit=request.limit,
            with_payload=request.with_payload,
        )

    def scan(self, collection: str, fields: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        offset: models.ExtendedPointId | None = None
        while True:
            with _existing(collection):
                records, offset = self._client.scroll(
                    collection, limit=SCAN_PAGE_SIZE, offset=offset, with_payload=list(fields) or False
                )
            for record in records:
                yield str(record.id), record.payload or {}
            if offset is None:
                return

    def vectors(
        self, collection: str, ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, dict[str, list[float]]]:
        with _existing(collection):
            records = self._client.retrieve(
                collection, list(ids), with_payload=False, with_vectors=list(names)
            )
        found: dict[str, dict[str, list[float]]] = {}
        for record in records:
            stored: dict[str, Any] = record.vector if isinstance(record.vector, dict) else {}
            found[str(record.id)] = {n: list(stored[n]) for n in names if isinstance(stored.get(n), list)}
        return found

    def payloads(
        self, collection: str, ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        with _existing(collection):
            records = self._client.retrieve(
                collection, list(ids), with_payload=list(fields), with_vectors=False
            )
        return {str(record.id): dict(record.payload or {}) for record in records}

    def facet(self, collection: str, field: str, limit: int = 1000) -> list[str]:
        return [str(hit.value) for hit in self.facet_counts(collection, field, PayloadFilter(), limit)]

    def facet_counts(
        self, collection: str, field: str, payload_filter: PayloadFilter, limit: int
    ) -> list[FacetCount]:
        with _existing(collection):
            response = self._client.facet(
                collection,
                field,
                facet_filter=build_filter(payload_filter, SERVER_FILTERS),
                limit=limit,
                exact=True,
            )
        return [FacetCount(hit.value, hit.count) for hit in response.hits]

    def count(self, collection: str) -> int:
        with _existing(collection):
            return self._client.count(collection, exact=True).count

    def close(self) -> None:
        self._client.close()
