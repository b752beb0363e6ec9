"""QueryEmbedder: the query model behind a Serve deployment, with concurrent queries batched."""

from __future__ import annotations

from collections.abc import Callable

from ray import serve

from models.embedders import Embedder, EmbedderConfig, load_embedder

EmbedderFactory = Callable[[EmbedderConfig], Embedder]


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
    ) -> None:
        self.embedder = embedder_factory(config)
        # The first encode pays for lazy initialisation (tokenizer, kernels); pay it before traffic.
        self.embedder.embed(["aquecimento"])
        self._embed_batched = serve.batch(
            max_batch_size=max_batch_size, batch_wait_timeout_s=batch_wait_timeout_s
        )(self._embed_batch)

    async def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        # Encoding on the event loop on purpose: Serve forms the next batch as soon as requests are
        # enqueued, even while this one still runs. Blocking here keeps arrivals out of the queue
        # until the model is free, so under load they form one big batch instead of many of one.
        vectors = self.embedder.embed(texts)
        return [vector.tolist() for vector in vectors]

    async def embed(self, text: str) -> list[float]:
        """The L2-normalised embedding of one query."""
        vector: list[float] = await self._embed_batched(text)
        return vector

    def describe(self) -> dict[str, str | int]:
        """Which vector space this replica embeds into: the router's health check reads it."""
        return {"vector_name": self.embedder.name, "dim": self.embedder.dim}
