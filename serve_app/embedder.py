"""QueryEmbedder: the query model, with concurrent queries batched; a Serve deployment of its own, or
held by each router replica (`query_embedder.placement`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ray import serve

from common.settings import Settings
from models.embedders import Embedder, EmbedderConfig, load_embedder

EmbedderFactory = Callable[[EmbedderConfig], Embedder]


def load_query_embedder(config: EmbedderConfig, settings: Settings) -> Embedder:
    """Runs in the replica: an `openai` embedder's key comes from the replica's environment."""
    key = settings.with_secrets_from_environment().openai_api_key
    return load_embedder(config, key.get_secret_value() if key else None, settings.openai_base_url)


class QueryEmbedder:
    """Loads the model once; `embed` calls that arrive together are encoded as one batch.

    The batching queue is built per instance from the config rather than by a decorator at import
    time, so batch size and wait come from `SearchAppConfig` and the class stays plain.
    """

    def __init__(
        self,
        config: EmbedderConfig,
        max_batch_size: int,
        batch_wait_timeout_s: float,
        embedder_factory: EmbedderFactory = load_embedder,
        *,
        in_router: bool = False,
    ) -> None:
        self.embedder = embedder_factory(config)
        self._in_router = in_router
        # The first encode pays for lazy initialisation (tokenizer, kernels); pay it before traffic.
        self.embedder.embed(["aquecimento"])
        self._embed_batched = serve.batch(
            max_batch_size=max_batch_size, batch_wait_timeout_s=batch_wait_timeout_s
        )(self._embed_batch)

    async def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        if self._in_router:
            # The router's event loop has requests to plan and rank meanwhile; the model runs in a
            # worker thread (ONNX Runtime and torch release the GIL), on the other core.
            vectors = await asyncio.to_thread(self.embedder.embed, texts)
        else:
            # In its own replica, encoding on the event loop on purpose: Serve forms the next batch as
            # soon as requests are enqueued, even while this one still runs. Blocking here keeps arrivals
            # out of the queue until the model is free, so under load they form one big batch instead of
            # many of one.
            vectors = self.embedder.embed(texts)
        return [vector.tolist() for vector in vectors]

    async def embed(self, text: str) -> list[float]:
        """The L2-normalised embedding of one query."""
        vector: list[float] = await self._embed_batched(text)
        return vector

    def describe(self) -> dict[str, str | int]:
        """Which vector space this replica embeds into: the router's health check reads it."""
        return {"vector_name": self.embedder.name, "dim": self.embedder.dim}
