"""Vector store interface and its backends (Qdrant Edge in-process, Qdrant server via qdrant-client)."""

from common.vectors.base import (
    CollectionSpec,
    Hit,
    PayloadFilter,
    SearchRequest,
    SparseVector,
    VectorPoint,
    VectorStore,
)

__all__ = [
    "CollectionSpec",
    "Hit",
    "PayloadFilter",
    "SearchRequest",
    "SparseVector",
    "VectorPoint",
    "VectorStore",
]
