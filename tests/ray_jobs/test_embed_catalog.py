"""The embedding job: Ray Data actor pool, real MiniLM, a real Qdrant Edge index; incremental."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr

from catalog.lexical import lexical_vector
from common.resources import Resources
from common.settings import Settings
from common.vectors.edge import EdgeVectorStore
from kernel.schemas import CATALOG_COLLECTION, LEXICAL_VECTOR
from kernel.vectors import SearchRequest
from models.embedders import OPENAI_SMALL, Embedder
from ray_jobs import catalog_etl, embed_catalog, indexing
from tests.openai_stand_in import FakeOpenAI

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_session")]


def test_embeds_once_then_only_what_changed(
    fresh_settings: Settings, small_feeds: Path, tmp_path: Path, minilm: Embedder
) -> None:
    catalog_etl.run(
        catalog_etl.CatalogEtlConfig(source=str(small_feeds), feeds_config=fresh_settings.feeds_config),
        Resources(fresh_settings),
    )
    store = EdgeVectorStore(tmp_path / "qdrant")
    config = indexing.EmbedJobConfig(batch_size=64, max_actors=1)

    first = embed_catalog.run(config, Resources(fresh_settings, vectors=store))
    assert first["embedded"] == first["products"] > 0
    assert store.count(CATALOG_COLLECTION) == first["products"]

    second = embed_catalog.run(config, Resources(fresh_settings, vectors=store))
    assert second == {**second, "embedded": 0, "payload_updated": 0, "removed": 0}
    assert second["unchanged"] == first["products"]

    with psycopg.connect(fresh_settings.database_url or "") as conn:
        product_id, title = conn.execute(
            "SELECT p.id::text, p.title FROM products p JOIN offers o ON o.product_id = p.id "
            "WHERE o.stock > 0 AND o.price_brl IS NOT NULL ORDER BY p.id LIMIT 1"
        ).fetchone() or ("", "")
        conn.execute("UPDATE offers SET price_brl = price_brl / 2 WHERE product_id = %s", (product_id,))
        removed_id = conn.execute("SELECT id::text FROM products ORDER BY id DESC LIMIT 1").fetchone()
        assert removed_id is not None
        conn.execute("DELETE FROM products WHERE id = %s", (removed_id[0],))
    third = embed_catalog.run(config, Resources(fresh_settings, vectors=store))
    assert (third["embedded"], third["payload_updated"], third["removed"]) == (0, 1, 1)
    assert store.count(CATALOG_COLLECTION) == first["products"] - 1

    hits = store.search(
        CATALOG_COLLECTION,
        SearchRequest(
            limit=3,
            dense_name=minilm.name,
            dense=minilm.embed([title])[0].tolist(),
            sparse_name=LEXICAL_VECTOR,
            sparse=lexical_vector(title),
        ),
    )
    assert hits[0].id == product_id  # a product is found by its own title
    assert hits[0].payload["embedded_with"] == [minilm.name]
    with psycopg.connect(fresh_settings.database_url or "") as conn:
        best = conn.execute(
            "SELECT min(price_brl)::float8 FROM offers WHERE product_id = %s AND stock > 0", (product_id,)
        ).fetchone()
    assert best is not None and hits[0].payload["price_brl"] == pytest.approx(best[0])


def test_with_openai_configured_each_model_fills_its_own_named_vector(
    fresh_settings: Settings, small_feeds: Path, tmp_path: Path, fake_openai: str
) -> None:
    settings = fresh_settings.model_copy(
        update={"openai_api_key": SecretStr("sk-test"), "openai_base_url": fake_openai}
    )
    catalog_etl.run(
        catalog_etl.CatalogEtlConfig(source=str(small_feeds), feeds_config=settings.feeds_config),
        Resources(settings),
    )
    store = EdgeVectorStore(tmp_path / "qdrant")
    counts = embed_catalog.run(indexing.EmbedJobConfig(max_actors=1), Resources(settings, vectors=store))
    assert counts["embedded"] == counts["products"] > 0
    assert sum(len(request["input"]) for request in FakeOpenAI.requests) == counts["products"]
    states = dict(store.scan(CATALOG_COLLECTION, ["embedded_with"]))
    assert {tuple(state["embedded_with"]) for state in states.values()} == {("minilm-l6", "openai-3-small")}
    # Each space is searched on its own: an OpenAI-space query finds points through their OpenAI vector.
    query = [40.0, 1.0, *([0.0] * (OPENAI_SMALL.dim - 2))]
    hits = store.search(CATALOG_COLLECTION, SearchRequest(limit=5, dense_name="openai-3-small", dense=query))
    assert len(hits) == 5
