"""The ONNX query encoder against the torch model it was exported from: the same vector space.

Parity as the search needs it: on the storefront queries, every vector within cosine 0.9999 of torch's,
and every query's ten nearest products (of the session's sample catalog, embedded by torch as the batch
job does) the same ten.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from catalog.documents import product_text
from kernel.schemas import Offer, Product
from models.embedders import EmbedderConfig, SentenceTransformerEmbedder, load_embedder, packaged_minilm_path
from models.onnx_encoder import OnnxEmbedder
from scripts.queries import storefront_queries

QUERIES = storefront_queries(count=200)


@pytest.fixture(scope="module")
def onnx_minilm(tmp_path_factory: pytest.TempPathFactory) -> OnnxEmbedder:
    return OnnxEmbedder(packaged_minilm_path(), "minilm-l6", 64, tmp_path_factory.mktemp("onnx"))


def test_vectors_match_the_torch_model(
    onnx_minilm: OnnxEmbedder, minilm: SentenceTransformerEmbedder
) -> None:
    exported, reference = onnx_minilm.embed(QUERIES), minilm.embed(QUERIES)
    assert exported.shape == reference.shape == (len(QUERIES), 384)
    assert exported.dtype == np.float32
    assert np.allclose(np.linalg.norm(exported, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(exported * reference, axis=1))) >= 0.9999


def test_same_ten_nearest_products(
    onnx_minilm: OnnxEmbedder,
    minilm: SentenceTransformerEmbedder,
    catalog: tuple[list[Product], list[Offer]],
) -> None:
    products = minilm.embed([product_text(product.model_dump()) for product in catalog[0]])

    def ten_nearest(queries: np.ndarray) -> list[set[int]]:
        return [set(np.argsort(-row)[:10].tolist()) for row in queries @ products.T]

    assert ten_nearest(onnx_minilm.embed(QUERIES)) == ten_nearest(minilm.embed(QUERIES))


def test_one_query_and_a_padded_batch_agree(onnx_minilm: OnnxEmbedder) -> None:
    """A query alone and the same query padded inside a batch of longer ones: the mask keeps pads out."""
    alone = onnx_minilm.embed(["painel 550W"])[0]
    longer = "inversor híbrido 15 kW trifásico Deye com bateria de lítio"
    padded = onnx_minilm.embed(["painel 550W", longer])[0]
    assert float(alone @ padded) >= 0.9999


def test_the_export_is_reused(tmp_path: Path) -> None:
    first = OnnxEmbedder(packaged_minilm_path(), "minilm-l6", 8, tmp_path)
    (graph,) = tmp_path.glob("*.onnx")
    written = graph.stat().st_mtime_ns
    second = OnnxEmbedder(packaged_minilm_path(), "minilm-l6", 8, tmp_path)
    assert graph.stat().st_mtime_ns == written and [p.name for p in tmp_path.iterdir()] == [graph.name]
    assert np.allclose(first.embed(["cabo solar 6 mm"]), second.embed(["cabo solar 6 mm"]))


def test_a_model_other_than_mean_pooling_is_refused(tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer, models

    folder = tmp_path / "cls-pooled"
    transformer = models.Transformer(str(packaged_minilm_path()))
    pooling = models.Pooling(transformer.get_embedding_dimension(), pooling_mode="cls")
    SentenceTransformer(modules=[transformer, pooling]).save(str(folder))
    with pytest.raises(ValueError, match="mean Pooling"):
        OnnxEmbedder(folder, "cls", 8, tmp_path / "cache")


def test_a_model_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="local sentence-transformers folder"):
        OnnxEmbedder(Path("sentence-transformers/all-MiniLM-L6-v2"), "minilm-l6", 8, tmp_path)


def test_load_embedder_builds_the_onnx_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("models.onnx_encoder.DEFAULT_CACHE_DIR", tmp_path)
    embedder = load_embedder(EmbedderConfig(kind="onnx"))
    assert isinstance(embedder, OnnxEmbedder) and (embedder.name, embedder.dim) == ("minilm-l6", 384)
    assert len(list(tmp_path.glob("*.onnx"))) == 1
