"""Picks the vector-store backend from settings: a Qdrant server when QDRANT_URL is set, else Qdrant Edge."""

from __future__ import annotations

from common.settings import Settings
from kernel.vectors import VectorStore


def open_vector_store(settings: Settings) -> VectorStore:
    """The store this process owns. With Edge, only one process may hold it: see `owner.vector_index`."""
    if settings.qdrant_url:
        from qdrant_client import QdrantClient

        from common.vectors.server import QdrantServerVectorStore

        api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return QdrantServerVectorStore(QdrantClient(url=settings.qdrant_url, api_key=api_key))
    from common.vectors.edge import EdgeVectorStore

    return EdgeVectorStore(settings.vectors_dir)
