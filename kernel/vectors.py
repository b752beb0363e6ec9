"""The vector-store interface. Backends: `edge.EdgeVectorStore`, `server.QdrantServerVectorStore`.

Each point carries one named dense vector per embedding model (vector spaces are never mixed),
a sparse lexical vector, and a payload. A search names the dense vector it uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
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
    bool_fields: tuple[str, ...] = ()  # payload fields to index for true/false (filters, facet counts)


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
    rrf_k: int = 2  # RRF rank constant (Qdrant's default); larger values flatten the top ranks' lead

    def branches(self) -> list[tuple[str, list[float] | SparseVector]]:
        """The (vector name, query vector) pairs to search, dense first."""
        branches: list[tuple[str, list[float] | SparseVector]] = []
        requested = (("dense", self.dense_name, self.dense), ("sparse", self.sparse_name, self.sparse))
        for kind, name, vector in requested:
            if (name is None) != (vector is None):
                raise ValueError(f"a {kind} search needs both {kind}_name and {kind}")
            if name is not None and vector is not None:
                branches.append((name, vector))
        if not branches:
            raise ValueError("a search needs a dense or a sparse query vector")
        return branches


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    payload: dict[str, Any]


@dataclass(frozen=True)
class WideningSearch:
    """Searches tried in order, each over a wider filter than the last, until `enough` distinct hits are in;
    `fallback` only when none of them found anything. The index runs the whole sequence in one call: on the
    owner actor, one round trip instead of one per step (issue 17)."""

    steps: tuple[SearchRequest, ...]
    enough: int
    fallback: SearchRequest | None = None


def search_widening(search: Callable[[SearchRequest], list[Hit]], widening: WideningSearch) -> list[Hit]:
    """Every hit of the steps run, in step order (a hit found twice keeps its first, narrowest score)."""
    hits: dict[str, Hit] = {}
    for request in widening.steps:
        for hit in search(request):
            hits.setdefault(hit.id, hit)
        if len(hits) >= widening.enough:
            break
    if not hits and widening.fallback is not None:
        return search(widening.fallback)
    return list(hits.values())


@dataclass(frozen=True)
class FacetCount:
    value: str | int | bool  # a keyword, integer or bool field's value
    count: int


@dataclass(frozen=True)
class FacetQuery:
    """How many points matching `filter` hold each value of each field (an indexed keyword or bool
    field), the most frequent `limit` values per field: a storefront's filter panel."""

    fields: tuple[str, ...]
    filter: PayloadFilter = field(default_factory=PayloadFilter)
    limit: int = 20


def count_facets(
    facet_counts: Callable[[str, PayloadFilter, int], list[FacetCount]], query: FacetQuery
) -> dict[str, list[FacetCount]]:
    """Every field of `query` through one store's `facet_counts` (bound to its collection)."""
    return {name: facet_counts(name, query.filter, query.limit) for name in query.fields}


# Shared by the two Qdrant backends.


def in_rank_order(hits: list[Hit]) -> list[Hit]:
    """Best first, equal scores by id: the engines order ties arbitrarily, Edge even from run to run,
    and RRF ties are common (first in one branch and second in the other, or the other way round)."""
    return sorted(hits, key=lambda hit: (-hit.score, hit.id))


@dataclass(frozen=True)
class FilterVocabulary:
    """One backend's filter constructors. qdrant-client and qdrant-edge take the same keywords."""

    filter: Callable[..., Any]
    field_condition: Callable[..., Any]
    match_value: Callable[..., Any]
    match_any: Callable[..., Any]
    value_range: Callable[..., Any]


def build_filter(payload_filter: PayloadFilter, vocabulary: FilterVocabulary) -> Any:
    """The backend filter that requires every condition of `payload_filter`; None when it is empty."""
    if payload_filter.is_empty():
        return None
    v, f = vocabulary, payload_filter
    conditions = [
        *(v.field_condition(key=key, match=v.match_value(value=value)) for key, value in f.equals.items()),
        *(v.field_condition(key=key, match=v.match_any(any=values)) for key, values in f.any_of.items()),
        *(
            v.field_condition(key=key, range=v.value_range(gte=lo, lte=hi))
            for key, (lo, hi) in f.ranges.items()
        ),
    ]
    return v.filter(must=conditions)


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

    def vectors(
        self, collection: str, ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, dict[str, list[float]]]:
        """The named dense vectors of the given points (absent ids are left out), to reuse them elsewhere."""

    def payloads(
        self, collection: str, ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """The named payload fields of the given points (absent ids are left out): a diff of a few points
        without scanning the collection."""

    def facet(self, collection: str, field: str, limit: int = 1000) -> list[str]:
        """Distinct values of a keyword payload field (e.g. every brand in the catalog)."""

    def facet_counts(
        self, collection: str, field: str, payload_filter: PayloadFilter, limit: int
    ) -> list[FacetCount]:
        """How many points matching the filter hold each value of an indexed field, most first."""

    def count(self, collection: str) -> int: ...

    def close(self) -> None: ...
