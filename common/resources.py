"""The adapters of one environment, made in one place from its Settings.

On a laptop (nothing set) they are the embedded defaults: a pgserver cluster under DATA_DIR, Qdrant Edge
behind its owner actor, local folders. On a cluster they are the servers the settings name:
DATABASE_URL, QDRANT_URL (serving replicas query it directly; batch writes still go through the owner
actor), s3:// URIs with S3_ENDPOINT_URL. Jobs, the scheduler, the router and the scripts each make one
`Resources` at their start and hand it down; no other module resolves a DSN or opens a store. A test
hands in an in-process vector store instead.
"""

from __future__ import annotations

from typing import Any

import psycopg

from common import postgres
from common.embedded import postgres_dsn
from common.erp_client import ErpClient
from common.settings import Settings
from common.storage import ObjectStore, object_store
from common.vectors.client import DirectVectorIndex, VectorIndexClient
from common.vectors.factory import open_vector_store
from common.vectors.owner import RemoteVectorStore, vector_index
from kernel.vectors import VectorStore


class Resources:
    def __init__(self, settings: Settings, *, vectors: VectorStore | None = None) -> None:
        self.settings = settings
        self._vectors = vectors

    @property
    def dsn(self) -> str:
        """The catalog database's DSN: DATABASE_URL, or the embedded server's, looked up at each use so
        an embedded server that stopped (a job run from the command line stops the one it started) is
        started again rather than a long-lived replica keeping a dead address."""
        return postgres_dsn(self.settings)

    def connect(self, *, timeout_s: float | None = None) -> psycopg.Connection[dict[str, Any]]:
        """`common.postgres.connect` to this environment's database."""
        return postgres.connect(self.dsn, timeout_s=timeout_s)

    @property
    def vectors(self) -> VectorStore:
        """The vector index for batch work: the owner actor's, unless one was handed in."""
        if self._vectors is None:
            self._vectors = RemoteVectorStore(vector_index(self.settings))
        return self._vectors

    def index_client(self, timeout_s: float) -> VectorIndexClient | DirectVectorIndex:
        """The vector index for serving, each call awaited within `timeout_s`: a Qdrant server straight
        from this process (every replica may query it), the Edge shards through their owner actor."""
        if self.settings.qdrant_url:
            return DirectVectorIndex(open_vector_store(self.settings), timeout_s)
        return VectorIndexClient(lambda: vector_index(self.settings), timeout_s=timeout_s)

    def erp_client(self) -> ErpClient:
        """A client of the ERP API at ERP_URL (ValueError when it is unset); the caller closes it."""
        return ErpClient.from_settings(self.settings)

    def objects(self, uri: str) -> ObjectStore:
        """The files under a folder or s3:// prefix (a relative folder resolves against BASE_DIR)."""
        return object_store(uri, self.settings)

    def read_object(self, uri: str) -> bytes:
        """One file's bytes, by path or s3:// URI."""
        folder, _, name = uri.rstrip("/").rpartition("/")
        return self.objects(folder or ".").read_bytes(name)
