"""ERP state in Postgres: apply ERP records to the catalog, orders and homologação status; the order
outbox; rejects; sync watermarks. Keyword-only beyond the connection, like `common.catalog_store`.

Every function runs inside the CALLER's transaction and never commits: a sync job commits a page with
its watermark, a Kafka consumer a message with its offset. (On an autocommit connection, `place_order`
still writes its two rows atomically.)

Versions: an `apply_*` whose record's version is not above the stored one changes nothing, so
duplicate or out-of-order deliveries are no-ops (`Applied.unchanged` for an equal version,
`Applied.stale` for an older one).

Prices: every named list is kept in `price_lists`; the list named `OFFER_PRICE_LIST` ("B1", the
list the marketplace sells at) also sets `offers.price_brl`, which the search, quotes and the
`helio-pricing` passages read. Stock sets `offers.stock`. An ERP product or price whose
(distributor, sku) the catalog has no offer for is kept in `erp_rejects` with its reason and not
applied; a later delivery (or a full re-sync, `--full`) applies it once the offer exists.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel

from common.rejects import keep_rejects, without_nul
from erp.records import ErpOrder, ErpProduct, HomologacaoUpdate, PriceEntry
from erp.rules import idempotency_key, is_newer

SCHEMA = "erp.sql"  # applied by `postgres.migrate(conn, SCHEMA)`
OFFER_PRICE_LIST = "B1"


class Applied(StrEnum):
    """What an `apply_*` did, strongest first."""

    placed = "placed"  # apply_order only: the order became placed for the first time (also written)
    inserted = "inserted"
    updated = "updated"
    unchanged = "unchanged"  # the same version again, or a newer one with the same facts
    stale = "stale"  # an older version: ignored
    rejected = "rejected"  # no catalog offer for it: kept in erp_rejects

    @property
    def wrote(self) -> bool:
        return self in (Applied.placed, Applied.inserted, Applied.updated)


_STRENGTH = list(Applied)


class OutboxEntry(BaseModel):
    idempotency_key: str
    order_id: str
    payload: dict[str, Any]
    attempts: int


def _outcome(stored_version: int | None, version: int, same_facts: bool) -> Applied:
    if stored_version is None:
        return Applied.inserted
    if not is_newer(stored_version, version):
        return Applied.unchanged if version == stored_version else Applied.stale
    return Applied.unchanged if same_facts else Applied.updated


def _offer_or_reject(conn: psycopg.Connection[Any], kind: str, record: PriceEntry | ErpProduct) -> bool:
    """Whether the catalog has the record's offer; when not, the record is kept as a reject."""
    key = (record.distributor, record.sku)
    if _one(conn, "SELECT 1 AS found FROM offers WHERE distributor = %s AND sku = %s", key) is not None:
        return True
    reason = "no catalog offer for this distributor SKU"
    record_reject(conn, kind=kind, key="/".join(key), raw=record.model_dump(mode="json"), reason=reason)
    return False


def apply_price(conn: psycopg.Connection[Any], entry: PriceEntry) -> Applied:
    """Store one price-list row; the offer price list also reprices the offer."""
    if not _offer_or_reject(conn, "price", entry):
        return Applied.rejected
    key = (entry.distributor, entry.sku, entry.price_list)
    stored = _one(
        conn,
        "SELECT version, price_brl FROM price_lists WHERE distributor = %s AND sku = %s AND price_list = %s"
        " FOR UPDATE",
        key,
    )
    applied = _outcome(_get(stored, "version"), entry.version, _get(stored, "price_brl") == entry.price_brl)
    if stored is not None and not is_newer(stored["version"], entry.version):
        return applied
    conn.execute(
        """
        INSERT INTO price_lists (distributor, sku, price_list, price_brl, updated_at, version)
        VALUES (%s, %s, %s, %s, %s, %s)
        ON CONFLICT (distributor, sku, price_list) DO UPDATE SET
            price_brl = EXCLUDED.price_brl, updated_at = EXCLUDED.updated_at, version = EXCLUDED.version,
            synced_at = now()
        WHERE price_lists.version < EXCLUDED.version
        """,
        (*key, entry.price_brl, entry.updated_at, entry.version),
    )
    if entry.price_list == OFFER_PRICE_LIST and applied.wrote:
        conn.execute(
            "UPDATE offers SET price_brl = %s, updated_at = greatest(updated_at, %s)"
            " WHERE distributor = %s AND sku = %s",
            (entry.price_brl, entry.updated_at, entry.distributor, entry.sku),
        )
    return applied


def apply_product(conn: psycopg.Connection[Any], product: ErpProduct) -> Applied:
    """Stock (by the product's version) and each price (by its own version); returns the strongest
    outcome of the two, e.g. `updated` when only one price list moved."""
    if not _offer_or_reject(conn, "product", product):
        return Applied.rejected
    key = (product.distributor, product.sku)
    stored = _one(
        conn, "SELECT version, stock FROM erp_products WHERE distributor = %s AND sku = %s FOR UPDATE", key
    )
    applied = _outcome(_get(stored, "version"), product.version, _get(stored, "stock") == product.stock)
    if stored is None or is_newer(stored["version"], product.version):
        conn.execute(
            """
            INSERT INTO erp_products (distributor, sku, stock, updated_at, version)
            VALUES (%s, %s, %s, %s, %s)
            ON CONFLICT (distributor, sku) DO UPDATE SET
                stock = EXCLUDED.stock, updated_at = EXCLUDED.updated_at, version = EXCLUDED.version,
                synced_at = now()
            WHERE erp_products.version < EXCLUDED.version
            """,
            (*key, product.stock, product.updated_at, product.version),
        )
    if applied.wrote:
        conn.execute(
            "UPDATE offers SET stock = %s, updated_at = greatest(updated_at, %s)"
            " WHERE distributor = %s AND sku = %s",
            (product.stock, product.updated_at, *key),
        )
    outcomes = [applied, *(apply_price(conn, price) for price in product.prices)]
    return min(outcomes, key=_STRENGTH.index)


def apply_order(conn: psycopg.Connection[Any], order: ErpOrder) -> Applied:
    """Insert or update the order. Returns `Applied.placed` when this update is the first to show the
    order placed (`placed_at` gets set, once): the homologação workflow opens its case on that. A
    poller can ask `orders_placed_since` instead. An update without `erp_order_id` keeps the stored one."""
    stored = _one(
        conn, "SELECT version, placed_at FROM orders WHERE order_id = %s FOR UPDATE", (order.order_id,)
    )
    applied = _outcome(_get(stored, "version"), order.version, same_facts=False)
    if not applied.wrote:
        return applied
    _upsert_order(conn, order)
    newly_placed = order.is_placed and (stored is None or _get(stored, "placed_at") is None)
    return Applied.placed if newly_placed else applied


def _upsert_order(conn: psycopg.Connection[Any], order: ErpOrder) -> None:
    consumer_unit = order.consumer_unit.model_dump_json() if order.consumer_unit else None
    items = json.dumps([item.model_dump(mode="json") for item in order.items])
    conn.execute(
        """
        INSERT INTO orders (order_id, erp_order_id, status, customer_name, consumer_unit, items, total_brl,
                            updated_at, version, placed_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, CASE WHEN %s THEN now() END)
        ON CONFLICT (order_id) DO UPDATE SET
            erp_order_id = coalesce(EXCLUDED.erp_order_id, orders.erp_order_id), status = EXCLUDED.status,
            customer_name = EXCLUDED.customer_name, consumer_unit = EXCLUDED.consumer_unit,
            items = EXCLUDED.items, total_brl = EXCLUDED.total_brl, updated_at = EXCLUDED.updated_at,
            version = EXCLUDED.version, placed_at = coalesce(orders.placed_at, EXCLUDED.placed_at)
        WHERE orders.version < EXCLUDED.version
        """,
        (order.order_id, order.erp_order_id, order.status, order.customer_name, consumer_unit, items,
         order.total_brl, order.updated_at, order.version, order.is_placed),
    )  # fmt: skip


def orders_placed_since(conn: psycopg.Connection[Any], *, since: datetime) -> list[str]:
    """Orders first seen placed after `since`, oldest first. `placed_at` is the writing transaction's
    start, which may commit after a later one: a poller lets its windows overlap a little."""
    rows = _rows(
        conn, "SELECT order_id FROM orders WHERE placed_at > %s ORDER BY placed_at, order_id", (since,)
    )
    return [row["order_id"] for row in rows]


def apply_homologacao(conn: psycopg.Connection[Any], update: HomologacaoUpdate) -> Applied:
    """The order's homologação status as the ERP reports it (kept even before the order itself arrives:
    the two streams are not ordered with respect to each other)."""
    stored = _one(
        conn,
        "SELECT version, status, detail FROM homologacao_status WHERE order_id = %s FOR UPDATE",
        (update.order_id,),
    )
    same = _get(stored, "status") == update.status and _get(stored, "detail") == update.detail
    applied = _outcome(_get(stored, "version"), update.version, same)
    if stored is None or is_newer(_get(stored, "version"), update.version):
        conn.execute(
            """
            INSERT INTO homologacao_status (order_id, status, detail, updated_at, version)
            VALUES (%s, %s, %s, %s, %s)
            ON CONFLICT (order_id) DO UPDATE SET
                status = EXCLUDED.status, detail = EXCLUDED.detail, updated_at = EXCLUDED.updated_at,
                version = EXCLUDED.version, synced_at = now()
            WHERE homologacao_status.version < EXCLUDED.version
            """,
            (update.order_id, update.status, update.detail, update.updated_at, update.version),
        )
    return applied


def place_order(conn: psycopg.Connection[Any], order: ErpOrder) -> str:
    """A platform order and its outbox row, written together; returns the idempotency key the ERP
    receives it with. Placing the same order again writes nothing and returns the same key."""
    key = idempotency_key("order", order.order_id)
    # inside the caller's transaction the two writes are atomic already; on autocommit they need a block
    with conn.transaction() if conn.autocommit else nullcontext():
        apply_order(conn, order)
        conn.execute(
            "INSERT INTO order_outbox (idempotency_key, order_id, payload) VALUES (%s, %s, %s)"
            " ON CONFLICT (idempotency_key) DO NOTHING",
            (key, order.order_id, order.model_dump_json()),
        )
    return key


def next_pending(conn: psycopg.Connection[Any]) -> OutboxEntry | None:
    """The oldest pending outbox row, locked until the caller's transaction ends (SKIP LOCKED: two
    dispatchers never send the same row at once)."""
    row = _one(
        conn,
        "SELECT idempotency_key, order_id, payload, attempts FROM order_outbox WHERE status = 'pending'"
        " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    return None if row is None else OutboxEntry.model_validate(row)


def mark_sent(conn: psycopg.Connection[Any], *, key: str, erp_order_id: str) -> None:
    conn.execute(
        "UPDATE order_outbox SET status = 'sent', erp_order_id = %s, sent_at = now(),"
        " attempts = attempts + 1, last_error = NULL WHERE idempotency_key = %s",
        (erp_order_id, key),
    )
    conn.execute(
        "UPDATE orders SET erp_order_id = %s"
        " WHERE order_id = (SELECT order_id FROM order_outbox WHERE idempotency_key = %s)",
        (erp_order_id, key),
    )


def mark_failed(conn: psycopg.Connection[Any], *, key: str, error: str, final: bool) -> None:
    """Record a failed send: `final` (the ERP refused the order) takes it out of the queue, kept with
    its error; otherwise it stays pending for the next run."""
    conn.execute(
        "UPDATE order_outbox SET attempts = attempts + 1, last_error = %s,"
        " status = CASE WHEN %s THEN 'failed' ELSE status END WHERE idempotency_key = %s",
        (error, final, key),
    )


def record_reject(conn: psycopg.Connection[Any], *, kind: str, key: str, raw: Any, reason: str) -> None:
    """Keep an ERP payload that was not applied, with its reason, once. Its NULs (which a refused id may
    carry) are kept as U+FFFD, so the reject is written instead of failing the transaction it is part of."""
    text = json.dumps(without_nul(raw), sort_keys=True, default=str)
    row = {
        "kind": kind,
        "record_key": key,
        "raw": text,
        "reason": reason,
        "raw_hash": hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }
    keep_rejects(conn, "erp_rejects", [row], conflict=("kind", "raw_hash", "reason"))


def offer_prices(
    conn: psycopg.Connection[Any], *, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Decimal | None]:
    """offers.price_brl of each (distributor, sku) the catalog has."""
    pairs = list(keys)
    rows = _rows(
        conn,
        "SELECT o.distributor, o.sku, o.price_brl FROM offers o"
        " JOIN unnest(%s::text[], %s::text[]) AS k (distributor, sku) USING (distributor, sku)",
        ([d for d, _ in pairs], [s for _, s in pairs]),
    )
    return {(r["distributor"], r["sku"]): r["price_brl"] for r in rows}


def watermark(conn: psycopg.Connection[Any], *, stream: str) -> datetime | None:
    row = _one(conn, "SELECT updated_since FROM erp_watermarks WHERE stream = %s", (stream,))
    return _get(row, "updated_since")


def move_watermark(conn: psycopg.Connection[Any], *, stream: str, updated_since: datetime | None) -> None:
    """Set the stream's watermark (never backwards); None resets it (a full re-sync)."""
    if updated_since is None:
        conn.execute("DELETE FROM erp_watermarks WHERE stream = %s", (stream,))
        return
    conn.execute(
        """
        INSERT INTO erp_watermarks (stream, updated_since) VALUES (%s, %s)
        ON CONFLICT (stream) DO UPDATE SET
            updated_since = greatest(erp_watermarks.updated_since, EXCLUDED.updated_since), moved_at = now()
        """,
        (stream, updated_since),
    )


def _rows(conn: psycopg.Connection[Any], sql: str, params: Any = None) -> list[dict[str, Any]]:
    # dict rows whatever the caller's connection was opened with (a Kafka consumer may use tuples)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


def _one(conn: psycopg.Connection[Any], sql: str, params: Any = None) -> dict[str, Any] | None:
    rows = _rows(conn, sql, params)
    return rows[0] if rows else None


def _get(row: dict[str, Any] | None, name: str) -> Any:
    return None if row is None else row[name]
