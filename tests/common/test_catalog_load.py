"""The catalog ETL's load through Postgres staging (`CatalogLoad`): which listing of a SKU stands, how
listings merge into products, and what is new, updated, unchanged or removed against the stored catalog."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
import pytest

from catalog.merge import merge_feed_records
from common import postgres
from common.catalog_store import CatalogWrite, catalog_load
from common.settings import Settings
from kernel.schemas import FeedRecord
from ray_jobs.catalog_etl import FeedTally, merge_staged, staged_listing
from tests.catalog.test_merge import listing
from tests.conftest import new_database

pytestmark = pytest.mark.slow
ORDER = ["alfa", "beta"]
BASE = [listing("alfa", "A-1", "Jinko", "JKM550"), listing("beta", "B-1", "Jinko", "JKM550")]
BOTH_FILES = {("alfa", "alfa/feed.csv"), ("beta", "beta/feed.csv")}


@pytest.fixture
def conn(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    with postgres.connect(new_database(settings)) as conn:
        postgres.migrate(conn)
        yield conn


def load(
    conn: psycopg.Connection[Any],
    records: Sequence[FeedRecord],
    files_read: set[tuple[str, str]] | None = None,
) -> tuple[CatalogWrite, FeedTally]:
    """The records as the ETL loads them, in this order (one file rank, positions as listed)."""
    run_id = postgres.start_job_run(conn, job="test")
    tally = FeedTally(conn, run_id)
    with catalog_load(conn) as staged:
        staged.add_listings(staged_listing(r, file_rank=0, position=n) for n, r in enumerate(records))
        staged.add_files_read(sorted(files_read if files_read is not None else BOTH_FILES))
        merge_staged(staged, tally, ORDER)
        return staged.apply(), tally


def stored_products(conn: psycopg.Connection[Any]) -> dict[str, dict[str, Any]]:
    rows = conn.execute("SELECT id::text AS id, brand, model, specs, row_hash FROM products").fetchall()
    return {row.pop("id"): row for row in rows}


def test_the_load_writes_what_the_in_memory_merge_computes(conn: psycopg.Connection[Any]) -> None:
    records = [
        *BASE,
        listing("beta", "B-77", "Jinko", "JKM550", specs={"power_w": 550.0, "voc_v": 49.6}),
        listing("alfa", "A-1", "Jinko", "JKM550", price_brl=1.0, source_file="alfa/extra.csv", line=9),
        listing("alfa", "A-2", "Trina", "TSM-600"),
    ]
    write, tally = load(conn, records)
    merged = merge_feed_records(records, ORDER)

    products = stored_products(conn)
    assert {pid: p["specs"] for pid, p in products.items()} == {
        pid: p.specs for pid, p in merged.products.items()
    }
    offers = conn.execute("SELECT distributor, sku, price_brl::float8 AS price FROM offers").fetchall()
    assert {(o["distributor"], o["sku"]): o["price"] for o in offers} == {
        key: offer.price_brl for key, offer in merged.offers.items()
    }
    assert write.products == len(merged.products) == write.products_written
    repeated = conn.execute("SELECT source_file, line, reason FROM feed_rejects").fetchall()
    assert [(r["source_file"], r["line"]) for r in repeated] == [("alfa/extra.csv", 9)]
    assert repeated[0]["reason"] == merged.rejects[0].reason
    assert tally.rows["alfa"] == {"read": 0, "accepted": -1, "rejected": 1}  # the parse counted it read


@pytest.mark.parametrize(
    ("incoming", "files_read", "expected"),
    [
        (BASE, BOTH_FILES, {"alfa": (0, 0, 1, 0), "beta": (0, 0, 1, 0)}),
        (
            [listing("alfa", "A-1", "Jinko", "JKM550", price_brl=470.0), BASE[1]],
            BOTH_FILES,
            {"alfa": (0, 1, 0, 0), "beta": (0, 0, 1, 0)},
        ),
        ([BASE[0]], BOTH_FILES, {"alfa": (0, 0, 1, 0), "beta": (0, 0, 0, 1)}),  # beta's file lost B-1
        ([BASE[0]], {("alfa", "alfa/feed.csv")}, {"alfa": (0, 0, 1, 0)}),  # beta's file unreadable: kept
        (
            [*BASE, listing("beta", "B-2", "Jinko", "JKM600")],
            BOTH_FILES,
            {"alfa": (0, 0, 1, 0), "beta": (1, 0, 1, 0)},
        ),
    ],
    ids=["unchanged", "price-changed", "offer-removed", "unreadable-file-keeps-offers", "new-offer"],
)
def test_a_second_load_against_the_stored_catalog(
    conn: psycopg.Connection[Any],
    incoming: list[FeedRecord],
    files_read: set[tuple[str, str]],
    expected: dict[str, tuple[int, ...]],
) -> None:
    load(conn, BASE)
    write, _ = load(conn, incoming, files_read)
    got = {d: (c["new"], c["updated"], c["unchanged"], c["removed"]) for d, c in write.offers.items()}
    assert got == expected
    assert write.changed == any(v[0] or v[1] or v[3] for v in expected.values())
    stored = conn.execute("SELECT distributor, sku FROM offers").fetchall()
    kept = {(r.distributor, r.sku) for r in incoming} | (
        {("beta", "B-1")} if ("beta", "beta/feed.csv") not in files_read else set()
    )
    assert {(o["distributor"], o["sku"]) for o in stored} == kept


def test_a_changed_spec_rewrites_the_product_and_an_offerless_one_goes(conn: psycopg.Connection[Any]) -> None:
    load(conn, [*BASE, listing("alfa", "A-9", "Trina", "TSM-600")])
    before = stored_products(conn)
    write, _ = load(conn, [listing("alfa", "A-1", "Jinko", "JKM550", specs={"power_w": 555.0}), BASE[1]])
    after = stored_products(conn)
    assert write.products_written == 1 and write.products_removed == 1
    assert [p["model"] for p in after.values()] == ["JKM550"]
    (pid,) = after
    assert after[pid]["specs"] == {"power_w": 555.0} and after[pid]["row_hash"] != before[pid]["row_hash"]
