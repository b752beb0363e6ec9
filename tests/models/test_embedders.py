"""Embedders: the packaged MiniLM for real, and the OpenAI client against a local stand-in."""

from __future__ import annotations

import numpy as np
import pytest

from models.embedders import OPENAI_SMALL, Embedder, OpenAIEmbedder, load_embedder
from tests.openai_stand_in import FakeOpenAI


def test_minilm_vectors_are_normalised_and_meaningful(minilm: Embedder) -> None:
    vectors = minilm.embed(
        ["inversor solar 5 kW", "inversor fotovoltaico de 5 kW", "cabo solar vermelho 6 mm"]
    )
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_openai_embedder_batches_keeps_order_and_normalises(fake_openai: str) -> None:
    embedder = OpenAIEmbedder(OPENAI_SMALL.model_copy(update={"batch_size": 2}), "sk-test", fake_openai)
    vectors = embedder.embed(["a", "bbb", "cc"])
    assert embedder.name == "openai-3-small"
    assert vectors.shape == (3, OPENAI_SMALL.dim)
    expected = np.array([[1, 1], [3, 1], [2, 1]], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(vectors[:, :2], expected)
    assert [len(r["input"]) for r in FakeOpenAI.requests] == [2, 1]
    assert {r["auth"] for r in FakeOpenAI.requests} == {"Bearer sk-test"}
    assert {r["model"] for r in FakeOpenAI.requests} == {"text-embedding-3-small"}


def test_openai_errors_surface(fake_openai: str) -> None:
    embedder = OpenAIEmbedder(OPENAI_SMALL, "sk-test", fake_openai)
    with pytest.raises(Exception, match="500"):
        embedder.embed(["boom"])


def test_openai_embedder_needs_a_key() -> None:
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        load_embedder(OPENAI_SMALL, None)
