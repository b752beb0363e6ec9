"""Catalog tables in Postgres: a whole catalog load staged, diffed and written in one transaction; what the
index and the change feed read back."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby, islice
from operator import itemgetter
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from common.postgres import fetch_one
from common.rejects import keep_rejects, rejected_line
from kernel.schemas import Offer, Product, RejectedRow

ProductRow = tuple[Product, str]  # product, row hash
OfferRow = tuple[Offer, str, str]  # offer, source file, row hash
OFFER_OUTCOMES = ("new", "updated", "unchanged", "removed")
_CHUNK_ROWS = 5_000  # rows a COPY takes at once: what the job holds of the catalog at any time

_STAGING = """
CREATE TEMP TABLE etl_listings (
    distributor     text NOT NULL,
    sku             text NOT NULL,
    product_id      uuid NOT NULL,
    source_file     text NOT NULL,
    file_rank       integer NOT NULL,
    position        integer NOT NULL,
    price_brl       numeric(14, 2),
    stock           integer NOT NULL,
    lead_time_days  integer NOT NULL,
    row_hash        text NOT NULL,
    record          text NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE etl_offers (LIKE etl_listings) ON COMMIT DROP;
ALTER TABLE etl_offers ALTER COLUMN record DROP NOT NULL,
    ALTER COLUMN file_rank DROP NOT NULL, ALTER COLUMN position DROP NOT NULL;
CREATE TEMP TABLE etl_products (LIKE products INCLUDING DEFAULTS) ON COMMIT DROP;
CREATE TEMP TABLE etl_files (distributor text NOT NULL, source_file text NOT NULL) ON COMMIT DROP;
"""
_OFFER_COLUMNS = (
    "distributor", "sku", "product_id", "source_file", "price_brl", "stock", "lead_time_days", "row_hash"
)  # fmt: skip
_LISTING_COLUMNS = (
    "distributor", "sku", "product_id", "source_file", "file_rank", "position", "price_brl", "stock",
    "lead_time_days", "row_hash", "record",
)  # fmt: skip
_PRODUCT_COLUMNS = ("id", "category", "brand", "model", "title", "specs", "row_hash")


@dataclass(frozen=True)
class CatalogWrite:
    """What a load changed: offers per distributor by outcome (OFFER_OUTCOMES), products in the feeds,
    products written (new or changed) and removed for having no offer left."""

    offers: dict[str, dict[str, int]]
    products: int
    products_written: int
    products_removed: int

    @property
    def changed(self) -> bool:
        offers_written = any(c["new"] or c["updated"] or c["removed"] for c in self.offers.values())
        return offers_written or bool(self.products_written or self.products_removed)


@contextmanager
def catalog_load(conn: psycopg.Connection[Any]) -> Iterator[CatalogLoad]:
    """A `CatalogLoad` whose transaction commits when the block ends without an error."""
    with conn.transaction():
        conn.execute(_STAGING)
        yield CatalogLoad(conn)


class CatalogLoad:
    """A whole catalog staged in temporary tables of one connection, diffed against the stored one and
    written in the same transaction: a crash leaves the previous catalog intact, and the job holds no more
    of the catalog than a COPY chunk, whatever its size (Postgres sorts, groups and compares).

        with catalog_load(conn) as load:
            load.add_listings(rows)           # every accepted listing, in reading order
            load.settle_offers()              # the first listing of each (distributor, SKU) stands
            load.repeated_listings()          # the others, to reject
            load.add_products(merge(group) for group in load.listings_by_product())
            write = load.apply()
    Fixtures stage products and offers directly (`add_products`, `add_offers`). Made by `catalog_load`."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def add_listings(self, rows: Iterable[Sequence[Any]]) -> None:
        """Rows of (distributor, sku, product_id, source_file, file_rank, position, price_brl, stock,
        lead_time_days, offer row hash, FeedRecord JSON); (file_rank, position) is the reading order."""
        self._copy("etl_listings", _LISTING_COLUMNS, rows)

    def add_files_read(self, files: Iterable[tuple[str, str]]) -> None:
        """(distributor, source_file) read this run: only their offers can be found gone."""
        self._copy("etl_files", ("distributor", "source_file"), files)

    def add_offers(self, offers: Iterable[OfferRow]) -> None:
        self._copy(
            "etl_offers",
            _OFFER_COLUMNS,
            (
                (o.distributor, o.sku, o.product_id, f, o.price_brl, o.stock, o.lead_time_days, h)
                for o, f, h in offers
            ),
        )

    def add_products(self, products: Iterable[ProductRow]) -> None:
        self._copy(
            "etl_products",
            _PRODUCT_COLUMNS,
            (
                (p.id, p.category, p.brand, p.model, p.title, json.dumps(p.specs, ensure_ascii=False), h)
                for p, h in products
            ),
        )

    def settle_offers(self) -> None:
        """The offers: the first listing of each (distributor, SKU) in reading order."""
        self.conn.execute(
            "INSERT INTO etl_offers SELECT DISTINCT ON (distributor, sku) * FROM etl_listings"
            " ORDER BY distributor, sku, file_rank, position;"
            " CREATE UNIQUE INDEX ON etl_offers (distributor, sku); ANALYZE etl_offers"
        )

    def repeated_listings(self) -> Iterator[tuple[str, str]]:
        """(FeedRecord JSON, file of the listing that stands) of each listing repeating a SKU, streamed."""
        with self.conn.cursor(name="etl_repeated_listings", row_factory=tuple_row) as cur:
            cur.itersize = _CHUNK_ROWS
            cur.execute(
                """
                SELECT l.record, o.source_file FROM etl_listings l JOIN etl_offers o USING (distributor, sku)
                 WHERE (l.file_rank, l.position) <> (o.file_rank, o.position)
                 ORDER BY l.file_rank, l.position
                """
            )
            yield from cur

    def listings_by_product(self) -> Iterator[list[str]]:
        """The FeedRecord JSON of the standing listings, product by product, streamed."""
        with self.conn.cursor(name="etl_listings_by_product", row_factory=tuple_row) as cur:
            cur.itersize = _CHUNK_ROWS
            cur.execute("SELECT product_id, record FROM etl_offers ORDER BY product_id")
            for _pid, rows in groupby(cur, key=itemgetter(0)):
                yield [record for _, record in rows]

    def apply(self) -> CatalogWrite:
        """Write what differs from the stored catalog; an offer disappears only when the file that listed
        it was read and no longer has it (an unreadable file keeps its offers as they were)."""
        execute = self.conn.cursor(row_factory=tuple_row).execute
        offers: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for distributor, new, updated, unchanged in execute(
            """
            SELECT s.distributor, count(*) FILTER (WHERE o.row_hash IS NULL),
                   count(*) FILTER (WHERE o.row_hash <> s.row_hash),
                   count(*) FILTER (WHERE o.row_hash = s.row_hash)
              FROM etl_offers s LEFT JOIN offers o USING (distributor, sku)
             GROUP BY s.distributor
            """
        ).fetchall():
            offers[distributor].update(new=new, updated=updated, unchanged=unchanged)
        products_written = execute(
            f"""
            INSERT INTO products ({", ".join(_PRODUCT_COLUMNS)})
            SELECT {", ".join(f"s.{c}" for c in _PRODUCT_COLUMNS)}
              FROM etl_products s LEFT JOIN products p USING (id)
             WHERE p.row_hash IS DISTINCT FROM s.row_hash
            ON CONFLICT (id) DO UPDATE SET
                category = EXCLUDED.category, brand = EXCLUDED.brand, model = EXCLUDED.model,
                title = EXCLUDED.title, specs = EXCLUDED.specs, row_hash = EXCLUDED.row_hash,
                updated_at = now()
            """
        ).rowcount
        execute(
            f"""
            INSERT INTO offers ({", ".join(_OFFER_COLUMNS)})
            SELECT {", ".join(f"s.{c}" for c in _OFFER_COLUMNS)}
              FROM etl_offers s LEFT JOIN offers o USING (distributor, sku)
             WHERE o.row_hash IS DISTINCT FROM s.row_hash
            ON CONFLICT (distributor, sku) DO UPDATE SET
                product_id = EXCLUDED.product_id, source_file = EXCLUDED.source_file,
                price_brl = EXCLUDED.price_brl, stock = EXCLUDED.stock,
                lead_time_days = EXCLUDED.lead_time_days, row_hash = EXCLUDED.row_hash, updated_at = now()
            """
        )
        for distributor, removed in execute(
            """
            WITH gone AS (
                DELETE FROM offers o USING etl_files f
                 WHERE o.distributor = f.distributor AND o.source_file = f.source_file
                   AND NOT EXISTS (SELECT 1 FROM etl_offers s WHERE s.distributor = o.distributor
                                                                AND s.sku = o.sku)
                RETURNING o.distributor
            )
            SELECT distributor, count(*) FROM gone GROUP BY distributor
            """
        ).fetchall():
            offers[distributor]["removed"] += removed
        products_removed = execute(
            "DELETE FROM products p WHERE NOT EXISTS (SELECT 1 FROM offers o WHERE o.product_id = p.id)"
        ).rowcount
        [(products,)] = execute("SELECT count(*) FROM etl_products").fetchall()
        return CatalogWrite(
            offers={d: {k: c[k] for k in OFFER_OUTCOMES} for d, c in offers.items()},
            products=products,
            products_written=products_written,
            products_removed=products_removed,
        )

    def _copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        # A chunk is read before its COPY opens: producing `rows` may use this connection (a cursor
        # fetching, rejects written).
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        rows = iter(rows)
        while chunk := list(islice(rows, _CHUNK_ROWS)):
            with self.conn.cursor() as cur, cur.copy(statement) as copy:
                for row in chunk:
                    copy.write_row(row)


def record_rejects(conn: psycopg.Connection[Any], *, rejects: Sequence[RejectedRow], run_id: int) -> int:
    """Keep every rejected feed row with its reason, once; returns how many rejects are new."""
    rows = [
        {
            "distributor": r.distributor,
            "source_file": r.source_file,
            **rejected_line(r.line, r.raw, r.reason, run_id),
        }
        for r in rejects
    ]
    return keep_rejects(
        conn, "feed_rejects", rows, conflict=("distributor", "source_file", "line", "raw_hash", "reason")
    )


def catalog_for_index(
    conn: psycopg.Connection[Any], *, product_ids: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Each product (or each of `product_ids` that exists) with what search shows of its offers: the
    cheapest in-stock offer, who sells it."""
    return conn.execute(
        """
        SELECT p.id::text AS id, p.category, p.brand, p.model, p.title, p.specs,
               best.sku, best.lead_time_days,
               CASE WHEN best.in_stock THEN best.price_brl::float8 END AS price_brl,
               coalesce(best.in_stock, false) AS in_stock,
               (SELECT array_agg(DISTINCT o.distributor ORDER BY o.distributor)
                  FROM offers o WHERE o.product_id = p.id) AS distributors
          FROM products p
          LEFT JOIN LATERAL (
                SELECT o.sku, o.price_brl, o.lead_time_days, o.stock > 0 AS in_stock
                  FROM offers o
                 WHERE o.product_id = p.id
                 ORDER BY (o.stock > 0) DESC, o.price_brl ASC NULLS LAST, o.distributor, o.sku
                 LIMIT 1
          ) best ON true
         WHERE %(all)s OR p.id = ANY(%(ids)s::uuid[])
         ORDER BY p.id
        """,
        {"all": product_ids is None, "ids": list(product_ids or [])},
    ).fetchall()


def pending_offer_changes(conn: psycopg.Connection[Any], *, limit: int) -> list[dict[str, Any]]:
    """The oldest changes of the offers change feed not yet applied to the index (see schema.sql)."""
    return conn.execute(
        "SELECT id, product_id::text AS product_id, distributor, sku, changed_at FROM offer_changes "
        "WHERE applied_at IS NULL ORDER BY id LIMIT %s",
        (limit,),
    ).fetchall()


def mark_offer_changes_applied(conn: psycopg.Connection[Any], *, ids: Sequence[int]) -> None:
    with conn.transaction():
        conn.execute("UPDATE offer_changes SET applied_at = now() WHERE id = ANY(%s)", (list(ids),))


def offer_change_backlog(conn: psycopg.Connection[Any]) -> tuple[int, float]:
    """(changes not yet applied to the index, seconds the oldest of them has waited: 0 when caught up)."""
    row = fetch_one(
        conn,
        "SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - min(changed_at)), 0)::float8 "
        "FROM offer_changes WHERE applied_at IS NULL",
    )
    assert row is not None
    pending, lag = row
    return int(pending), max(0.0, float(lag))


def catalog_version(conn: psycopg.Connection[Any]) -> tuple[Any, ...]:
    """Changes whenever an offer or a product does: a cheap test of whether a catalog copy is current."""
    row = fetch_one(
        conn,
        "SELECT (SELECT max(id) FROM offer_changes), (SELECT max(updated_at) FROM products), "
        "(SELECT count(*) FROM products)",
    )
    assert row is not None
    return row


def database_now(conn: psycopg.Connection[Any]) -> datetime:
    """The database's clock (the one `applied_at` is stamped with), outside any transaction's start time."""
    row = fetch_one(conn, "SELECT clock_timestamp()")
    assert row is not None
    moment: datetime = row[0]
    return moment


def reapply_offer_changes_since(conn: psycopg.Connection[Any], *, since: datetime) -> int:
    """A batch writer of the index (the embedding job, the pricing sync) read the catalog at `since`
    and may have overwritten what the change feed applied meanwhile: those changes apply again."""
    with conn.transaction():
        cursor = conn.execute("UPDATE offer_changes SET applied_at = NULL WHERE applied_at >= %s", (since,))
    return cursor.rowcount


def forget_applied_offer_changes(conn: psycopg.Connection[Any], *, older_than_s: float) -> int:
    with conn.transaction():
        cursor = conn.execute(
            "DELETE FROM offer_changes WHERE applied_at < now() - make_interval(secs => %s)",
            (older_than_s,),
        )
    return cursor.rowcount
