"""QueryEmbedder held by a router: concurrent queries batched, encoded off the event loop."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import numpy as np
import pytest
from ray import serve

from models.embedders import EmbedderConfig
from serve_app.embedder import QueryEmbedder


class RecordingEmbedder:
    """Stands in for the model: remembers each batch and the thread that encoded it."""

    name, dim = "recording", 2

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.threads: set[int] = set()

    def embed(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        self.threads.add(threading.get_ident())
        return np.array([[len(text), 1.0] for text in texts], dtype=np.float32)


def test_in_a_router_queries_are_batched_and_encoded_in_a_worker_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # serve.batch reads its replica's max_ongoing_requests: the router's, here a stand-in.
    replica = SimpleNamespace(_deployment_config=SimpleNamespace(max_ongoing_requests=64))
    monkeypatch.setattr(serve, "get_replica_context", lambda: replica)
    model = RecordingEmbedder()

    async def embed_together() -> tuple[list[list[float]], int]:
        embedder = QueryEmbedder(EmbedderConfig(), 8, 0.0, lambda _: model, in_router=True)
        model.batches.clear()  # the warm-up encode
        model.threads.clear()
        vectors = await asyncio.gather(*(embedder.embed("x" * n) for n in range(1, 6)))
        return vectors, threading.get_ident()

    vectors, loop_thread = asyncio.run(embed_together())
    assert vectors == [[float(n), 1.0] for n in range(1, 6)]
    assert sum(len(batch) for batch in model.batches) == 5 and len(model.batches) < 5
    assert loop_thread not in model.threads
