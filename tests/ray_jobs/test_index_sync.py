"""The offers change feed and the index syncer: a change to `offers`, whoever writes it, reaches the catalog
payloads and the pricing passages without re-embedding; real Postgres, real MiniLM, a real Edge index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from common import catalog_store, postgres
from common.resources import Resources
from common.settings import Settings
from common.vectors.edge import EdgeVectorStore
from kernel.schemas import CATALOG_COLLECTION, PRICING_COLLECTION
from rag.pricing import brl, passage_id
from ray_jobs import catalog_etl, embed_catalog, indexing
from ray_jobs.index_sync import apply_all_pending

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_session")]


@pytest.fixture(scope="module")
def indexed(
    settings: Settings, small_feeds: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, EdgeVectorStore]]:
    """The small sample through the ETL, the embedding job and the pricing sync, caught up."""
    from tests.conftest import new_database

    indexed_settings = settings.model_copy(update={"database_url": new_database(settings)})
    catalog_etl.run(
        catalog_etl.CatalogEtlConfig(source=str(small_feeds), feeds_config=settings.feeds_config),
        Resources(indexed_settings),
    )
    store = EdgeVectorStore(tmp_path_factory.mktemp("qdrant"))
    config = indexing.EmbedJobConfig(batch_size=64, max_actors=1)
    embed_catalog.run(config, Resources(indexed_settings, vectors=store))
    with db(indexed_settings) as conn:
        indexing.sync_pricing(store, indexing.embedder_configs(config, indexed_settings), conn)
        apply_all_pending(conn, store, indexed_settings, batch_size=500)
    yield indexed_settings, store
    store.close()


def db(settings: Settings) -> psycopg.Connection[dict[str, Any]]:
    conn = postgres.connect(settings.database_url or "")
    conn.autocommit = True
    return conn


def an_offer(conn: psycopg.Connection[dict[str, Any]], where: str) -> dict[str, Any]:
    row = conn.execute(
        "SELECT product_id::text AS product_id, distributor, sku, price_brl::float8 AS price, stock "
        f"FROM offers WHERE {where} ORDER BY product_id, distributor, sku LIMIT 1"
    ).fetchone()
    assert row is not None
    return row


def key(offer: dict[str, Any]) -> tuple[str, str]:
    return offer["distributor"], offer["sku"]


THE_OFFER = "WHERE distributor = %s AND sku = %s"


def only_offer_in_stock(conn: psycopg.Connection[dict[str, Any]]) -> dict[str, Any]:
    return an_offer(
        conn,
        "stock > 0 AND price_brl IS NOT NULL AND product_id IN "
        "(SELECT product_id FROM offers GROUP BY product_id HAVING count(*) = 1)",
    )


def test_a_price_change_reaches_the_catalog_payload_and_the_passage(
    indexed: tuple[Settings, EdgeVectorStore],
) -> None:
    settings, store = indexed
    with db(settings) as conn:
        offer = only_offer_in_stock(conn)
        new_price = round(offer["price"] * 0.8, 2)
        conn.execute(f"UPDATE offers SET price_brl = %s {THE_OFFER}", (new_price, *key(offer)))
        assert catalog_store.offer_change_backlog(conn)[0] == 1
        counts = apply_all_pending(conn, store, settings, batch_size=500)
        assert catalog_store.offer_change_backlog(conn) == (0, 0.0)
    assert (counts.changes, counts.payloads, counts.passages_written, counts.waiting_for_embedding) == (
        1,
        1,
        1,
        0,
    )
    payload = store.payloads(CATALOG_COLLECTION, [offer["product_id"]], ["price_brl", "in_stock"])
    assert payload[offer["product_id"]] == {"price_brl": pytest.approx(new_price), "in_stock": True}
    passage = store.payloads(PRICING_COLLECTION, [passage_id(offer["distributor"], offer["sku"])], ["text"])
    assert brl(new_price) in next(iter(passage.values()))["text"]


def test_sold_out_drops_from_the_in_stock_filter(indexed: tuple[Settings, EdgeVectorStore]) -> None:
    settings, store = indexed
    with db(settings) as conn:
        offer = only_offer_in_stock(conn)
        conn.execute(
            "UPDATE offers SET stock = 0 WHERE distributor = %s AND sku = %s",
            (offer["distributor"], offer["sku"]),
        )
        apply_all_pending(conn, store, settings, batch_size=500)
    payload = store.payloads(CATALOG_COLLECTION, [offer["product_id"]], ["in_stock", "price_brl"])
    assert payload[offer["product_id"]] == {"in_stock": False, "price_brl": None}


def test_removed_offers_and_products_leave_the_index(indexed: tuple[Settings, EdgeVectorStore]) -> None:
    settings, store = indexed
    with db(settings) as conn:
        offer = an_offer(conn, "true")
        conn.execute(
            "DELETE FROM offers WHERE distributor = %s AND sku = %s", (offer["distributor"], offer["sku"])
        )
        gone = an_offer(conn, f"product_id <> '{offer['product_id']}'")
        conn.execute("DELETE FROM products WHERE id = %s", (gone["product_id"],))  # its offers cascade
        counts = apply_all_pending(conn, store, settings, batch_size=500)
    assert counts.removed == 1 and counts.passages_removed >= 2
    assert store.payloads(CATALOG_COLLECTION, [gone["product_id"]], ["title"]) == {}
    gone_passages = [passage_id(o["distributor"], o["sku"]) for o in (offer, gone)]
    assert store.payloads(PRICING_COLLECTION, gone_passages, ["text"]) == {}


def test_a_product_whose_text_changed_is_left_to_the_embedding_job(
    indexed: tuple[Settings, EdgeVectorStore],
) -> None:
    """Writing its payload would stamp the new text's hash on the old text's vector."""
    settings, store = indexed
    with db(settings) as conn:
        offer = only_offer_in_stock(conn)
        before = store.payloads(CATALOG_COLLECTION, [offer["product_id"]], ["content_hash", "price_brl"])
        conn.execute(
            "UPDATE products SET title = title || ' (nova versão)' WHERE id = %s", (offer["product_id"],)
        )
        conn.execute(
            "UPDATE offers SET price_brl = price_brl + 1 WHERE distributor = %s AND sku = %s",
            (offer["distributor"], offer["sku"]),
        )
        counts = apply_all_pending(conn, store, settings, batch_size=500)
    assert (counts.payloads, counts.waiting_for_embedding) == (0, 1)
    after = store.payloads(CATALOG_COLLECTION, [offer["product_id"]], ["content_hash", "price_brl"])
    assert after == before


def test_changes_applied_while_a_batch_writer_ran_apply_again(
    indexed: tuple[Settings, EdgeVectorStore],
) -> None:
    settings, store = indexed
    with db(settings) as conn:
        read_at = catalog_store.database_now(conn)
        offer = an_offer(conn, "price_brl IS NOT NULL")
        conn.execute(f"UPDATE offers SET price_brl = price_brl + 2 {THE_OFFER}", key(offer))
        apply_all_pending(conn, store, settings, batch_size=500)
        assert catalog_store.reapply_offer_changes_since(conn, since=read_at) == 1
        assert catalog_store.offer_change_backlog(conn)[0] == 1
        apply_all_pending(conn, store, settings, batch_size=500)
        assert catalog_store.offer_change_backlog(conn)[0] == 0


def test_only_real_changes_enter_the_feed(indexed: tuple[Settings, EdgeVectorStore]) -> None:
    settings, _store = indexed
    with db(settings) as conn:
        offer = an_offer(conn, "true")
        conn.execute(
            "UPDATE offers SET stock = stock WHERE distributor = %s AND sku = %s",
            (offer["distributor"], offer["sku"]),
        )
        assert catalog_store.offer_change_backlog(conn)[0] == 0
        conn.execute(
            "UPDATE offers SET sku = sku || '-B' WHERE distributor = %s AND sku = %s",
            (offer["distributor"], offer["sku"]),
        )
        rows = conn.execute("SELECT sku FROM offer_changes WHERE applied_at IS NULL ORDER BY id").fetchall()
    assert [row["sku"] for row in rows] == [offer["sku"], offer["sku"] + "-B"]  # the old point leaves
