"""erp_store against the real Postgres: versions make duplicates and out-of-order updates no-ops,
unknown offers become rejects, orders and their outbox row are written together, nothing commits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from common import erp_store
from common.erp_store import Applied
from common.settings import Settings
from erp.records import ErpOrder, ErpProduct, HomologacaoUpdate, PriceEntry

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
Conn = psycopg.Connection[Any]


def price(version: int, brl: str, price_list: str = "B1", sku: str = "SS-1") -> PriceEntry:
    return PriceEntry(
        distributor="Solar Sul",
        sku=sku,
        price_list=price_list,
        price_brl=Decimal(brl),
        updated_at=T0 + timedelta(minutes=version),
        version=version,
    )


def order(version: int, status: str, order_id: str = "A-1", erp_order_id: str | None = None) -> ErpOrder:
    return ErpOrder(
        order_id=order_id,
        erp_order_id=erp_order_id,
        status=status,
        customer_name="Ana",
        items=[{"sku": "SS-1", "distributor": "Solar Sul", "quantity": 10}],
        total_brl=Decimal("1000.00"),
        updated_at=T0 + timedelta(minutes=version),
        version=version,
    )


def value(conn: Conn, sql: str, *params: Any) -> Any:
    row = conn.execute(sql, params).fetchone()
    return None if row is None else next(iter(row.values()))


def offer(conn: Conn, sku: str = "SS-1") -> tuple[Decimal, int]:
    row = conn.execute("SELECT price_brl, stock FROM offers WHERE sku = %s", (sku,)).fetchone()
    assert row is not None
    return row["price_brl"], row["stock"]


def test_prices_apply_by_version_and_the_offer_list_reprices_the_offer(conn: Conn) -> None:
    steps = [
        (price(2, "150.00"), Applied.inserted, Decimal("150.00")),
        (price(2, "150.00"), Applied.unchanged, Decimal("150.00")),  # a duplicate
        (price(1, "90.00"), Applied.stale, Decimal("150.00")),  # out of order
        (price(3, "150.00"), Applied.unchanged, Decimal("150.00")),  # newer, same price
        (price(4, "140.00"), Applied.updated, Decimal("140.00")),
        (price(9, "120.00", price_list="B3"), Applied.inserted, Decimal("140.00")),  # another list
    ]
    for entry, applied, offer_price in steps:
        assert erp_store.apply_price(conn, entry) is applied
        assert offer(conn)[0] == offer_price
    lists = conn.execute("SELECT price_list, price_brl, version FROM price_lists ORDER BY 1").fetchall()
    assert [tuple(r.values()) for r in lists] == [("B1", Decimal("140.00"), 4), ("B3", Decimal("120.00"), 9)]


def test_a_price_for_an_unknown_offer_is_kept_as_a_reject_once(conn: Conn) -> None:
    for _ in range(2):
        assert erp_store.apply_price(conn, price(1, "10.00", sku="NOPE")) is Applied.rejected
    rejects = conn.execute("SELECT kind, record_key, reason, raw FROM erp_rejects").fetchall()
    assert len(rejects) == 1
    assert (rejects[0]["kind"], rejects[0]["record_key"]) == ("price", "Solar Sul/NOPE")
    assert "no catalog offer" in rejects[0]["reason"] and rejects[0]["raw"]["price_brl"] == "10.00"
    assert value(conn, "SELECT count(*) FROM price_lists") == 0


def test_a_product_sets_stock_by_its_version_and_each_price_by_its_own(conn: Conn) -> None:
    def product(version: int, stock: int, prices: list[PriceEntry]) -> ErpProduct:
        return ErpProduct(
            distributor="Solar Sul",
            sku="SS-1",
            stock=stock,
            prices=prices,
            updated_at=T0 + timedelta(minutes=version),
            version=version,
        )

    assert erp_store.apply_product(conn, product(5, 7, [price(5, "99.90")])) is Applied.inserted
    assert offer(conn) == (Decimal("99.90"), 7)
    assert erp_store.apply_product(conn, product(5, 7, [price(5, "99.90")])) is Applied.unchanged
    # a stale product (stock 1 ignored) carrying a newer price
    assert erp_store.apply_product(conn, product(4, 1, [price(6, "89.90")])) is Applied.updated
    assert offer(conn) == (Decimal("89.90"), 7)
    assert erp_store.apply_product(conn, product(3, 1, [price(3, "1.00")])) is Applied.stale
    assert offer(conn) == (Decimal("89.90"), 7)
    unknown = ErpProduct(distributor="Nobody", sku="X", stock=1, updated_at=T0, version=1)
    assert erp_store.apply_product(conn, unknown) is Applied.rejected
    assert offer(conn, "SS-2") == (Decimal("100.00"), 1)  # untouched


def test_an_order_reports_placed_once_and_ignores_older_updates(conn: Conn) -> None:
    assert erp_store.apply_order(conn, order(1, "draft")) is Applied.inserted
    assert erp_store.apply_order(conn, order(2, "placed")) is Applied.placed
    assert erp_store.apply_order(conn, order(2, "placed")) is Applied.unchanged
    assert erp_store.apply_order(conn, order(3, "paid", erp_order_id="ERP-9")) is Applied.updated
    assert erp_store.apply_order(conn, order(4, "shipped")) is Applied.updated  # no erp id: kept
    assert erp_store.apply_order(conn, order(1, "cancelled")) is Applied.stale
    row = conn.execute("SELECT status, erp_order_id, version, items FROM orders").fetchone()
    assert row == {
        "status": "shipped",
        "erp_order_id": "ERP-9",
        "version": 4,
        "items": [{"product_id": None, "sku": "SS-1", "distributor": "Solar Sul", "quantity": 10}],
    }
    assert erp_store.apply_order(conn, order(7, "paid", order_id="B-2")) is Applied.placed
    assert erp_store.orders_placed_since(conn, since=T0 - timedelta(days=1)) == ["A-1", "B-2"]


def test_homologacao_status_follows_versions(conn: Conn) -> None:
    def update(version: int, status: str) -> HomologacaoUpdate:
        return HomologacaoUpdate(order_id="A-1", status=status, updated_at=T0, version=version)

    outcomes = [
        erp_store.apply_homologacao(conn, update(v, s))
        for v, s in [(1, "pending"), (3, "approved"), (2, "submitted"), (3, "approved")]
    ]
    assert outcomes == [Applied.inserted, Applied.updated, Applied.stale, Applied.unchanged]
    assert value(conn, "SELECT status FROM homologacao_status WHERE order_id = 'A-1'") == "approved"


def test_placing_an_order_writes_it_with_one_outbox_row(conn: Conn) -> None:
    key = erp_store.place_order(conn, order(1, "placed"))
    assert erp_store.place_order(conn, order(1, "placed")) == key
    assert value(conn, "SELECT count(*) FROM order_outbox") == 1
    assert value(conn, "SELECT placed_at IS NOT NULL FROM orders WHERE order_id = 'A-1'")
    pending = erp_store.next_pending(conn)
    assert pending is not None and (pending.idempotency_key, pending.order_id) == (key, "A-1")
    assert pending.payload["items"][0]["quantity"] == 10
    erp_store.mark_failed(conn, key=key, error="ERP 503", final=False)
    assert value(conn, "SELECT status || attempts FROM order_outbox") == "pending1"
    erp_store.mark_sent(conn, key=key, erp_order_id="ERP-1")
    assert erp_store.next_pending(conn) is None
    assert value(conn, "SELECT erp_order_id FROM orders WHERE order_id = 'A-1'") == "ERP-1"


def test_nothing_is_committed_by_the_store(conn: Conn, erp_settings: Settings) -> None:
    with pytest.raises(RuntimeError), conn.transaction():
        erp_store.place_order(conn, order(1, "placed"))
        erp_store.apply_price(conn, price(1, "1.00"))
        erp_store.move_watermark(conn, stream="products", updated_since=T0)
        raise RuntimeError("the caller's transaction fails")
    with psycopg.connect(erp_settings.database_url or "") as other:  # tuple rows, another session
        counts = other.execute(
            "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_outbox),"
            " (SELECT count(*) FROM price_lists), (SELECT count(*) FROM erp_watermarks)"
        ).fetchone()
        assert counts == (0, 0, 0, 0)
        assert erp_store.apply_price(other, price(1, "1.00")) is Applied.inserted  # tuple-row connection


def test_the_watermark_never_moves_back_and_resets(conn: Conn) -> None:
    assert erp_store.watermark(conn, stream="products") is None
    erp_store.move_watermark(conn, stream="products", updated_since=T0)
    erp_store.move_watermark(conn, stream="products", updated_since=T0 - timedelta(hours=1))
    assert erp_store.watermark(conn, stream="products") == T0
    erp_store.move_watermark(conn, stream="products", updated_since=None)
    assert erp_store.watermark(conn, stream="products") is None


def test_offer_prices_reads_known_offers_only(conn: Conn) -> None:
    prices = erp_store.offer_prices(conn, keys=[("Solar Sul", "SS-1"), ("Nobody", "X")])
    assert prices == {("Solar Sul", "SS-1"): Decimal("100.00")}
    assert erp_store.offer_prices(conn, keys=[]) == {}


def test_placing_on_an_autocommit_connection_writes_both_rows_or_none(erp_settings: Settings) -> None:
    with psycopg.connect(erp_settings.database_url or "", autocommit=True) as conn:
        conn.execute("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                     " RAISE EXCEPTION 'outbox down'; END $$")  # fmt: skip
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON order_outbox FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
        with pytest.raises(psycopg.errors.RaiseException, match="outbox down"):
            erp_store.place_order(conn, order(1, "placed"))
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
        conn.execute("DROP TRIGGER refuse ON order_outbox")
        erp_store.place_order(conn, order(1, "placed"))
        assert conn.execute(
            "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_outbox)"
        ).fetchone() == (1, 1)
