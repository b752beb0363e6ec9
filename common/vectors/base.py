"""The vector-store interface. Backends: `edge.EdgeVectorStore`, `server.QdrantServerVectorStore`.

Each point carries one named dense vector per embedding model (vector spaces are never mixed),
a sparse lexical vector, and a payload. A search names the dense vector it uses.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class CollectionSpec:
    name: str
    dense: dict[str, int] = field(default_factory=dict)  # vector name -> dimension (cosine)
    sparse: tuple[str, ...] = ()  # sparse vector names (IDF modifier)
    keyword_fields: tuple[str, ...] = ()  # payload fields to index for exact match
    float_fields: tuple[str, ...] = ()  # payload fields to index for ranges


@dataclass(frozen=True)
class VectorPoint:
    id: str  # a UUID string
    dense: dict[str, list[float]] = field(default_factory=dict)
    sparse: dict[str, SparseVector] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PayloadFilter:
    """All conditions must hold. `any_of` matches a keyword field against several values."""

    equals: dict[str, str | int | bool] = field(default_factory=dict)
    any_of: dict[str, list[str]] = field(default_factory=dict)
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)  # gte, lte

    def is_empty(self) -> bool:
        return not (self.equals or self.any_of or self.ranges)


@dataclass(frozen=True)
class SearchRequest:
    """Hybrid search: dense and/or sparse candidates, fused with RRF when both are given."""

    limit: int
    dense_name: str | None = None
    dense: list[float] | None = None
    sparse_name: str | None = None
    sparse: SparseVector | None = None
    filter: PayloadFilter = field(default_factory=PayloadFilter)
    candidates: int = 100  # per-branch prefetch size before fusion
    with_payload: bool = True


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    payload: dict[str, Any]


class VectorStore(Protocol):
    def ensure_collection(self, spec: CollectionSpec) -> None:
        """Create the collection, or add the named vectors it lacks. Idempotent."""

    def upsert(self, collection: str, points: Sequence[VectorPoint]) -> None: ...

    def set_payload(self, collection: str, point_id: str, payload: dict[str, Any]) -> None:
        """Replace the whole payload of one point, keeping its vectors."""

    def delete(self, collection: str, ids: Sequence[str]) -> None: ...

    def search(self, collection: str, request: SearchRequest) -> list[Hit]: ...

    def scan(self, collection: str, fields: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every point's id and the named payload fields, for incremental diffs."""

    def facet(self, collection: str, field: str, limit: int = 1000) -> list[str]:
        """Distinct values of a keyword payload field (e.g. every brand in the catalog)."""

    def count(self, collection: str) -> int: ...

    def close(self) -> None: ...
