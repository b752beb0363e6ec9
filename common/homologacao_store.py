"""Homologação cases and their check results in Postgres. Keyword-only, like `common.tariff_store`.

A case is opened once per order (`open_case` is a no-op the second time), every check is kept, and
each check remembers whether its status reached the ERP, so a workflow that crashed between checking
and sending sends the same result on its next run instead of checking again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg
from pydantic import BaseModel

from homologacao.case import Case
from homologacao.check import CheckResult

Connection = psycopg.Connection[dict[str, Any]]  # as `common.postgres.connect` opens them
SCHEMA = "homologacao.sql"  # applied by `postgres.migrate(conn, SCHEMA)`


class StoredCheck(BaseModel):
    id: int
    case_id: str
    order_id: str | None
    result: CheckResult


def open_case(conn: Connection, *, case: Case, documents: str | None = None) -> bool:
    """True when the case is new; an existing case (same id or same order) is left as it is."""
    with conn.transaction():
        cursor = conn.execute(
            """
            INSERT INTO homologacao_cases (case_id, order_id, case_json, documents)
            VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING
            """,
            (case.case_id, case.order_id, case.model_dump_json(), documents),
        )
        return cursor.rowcount == 1


def placed_orders_without_case(conn: Connection) -> list[dict[str, Any]]:
    """Orders the ERP has shown placed (`orders.placed_at`, see `common.erp_store.apply_order`) that have
    no case yet, oldest first. An anti-join rather than a time window: an order whose documents were
    not there yet, or whose run crashed, is simply found again by the next run.

    Rows, each for `erp.records.ErpOrder.model_validate`: the caller validates them one by one, so a row
    stored before order ids were checked (one that is no `ExternalId`) is refused alone."""
    return conn.execute(
        """
        SELECT o.order_id, o.erp_order_id, o.status, o.customer_name, o.consumer_unit, o.items, o.total_brl,
               o.updated_at, o.version
        FROM orders o LEFT JOIN homologacao_cases c ON c.order_id = o.order_id
        WHERE o.placed_at IS NOT NULL AND c.case_id IS NULL
        ORDER BY o.placed_at, o.order_id
        """
    ).fetchall()


def orders_with_cases(conn: Connection, *, order_ids: Iterable[str]) -> set[str]:
    rows = conn.execute(
        "SELECT order_id FROM homologacao_cases WHERE order_id = ANY(%s)", (list(order_ids),)
    ).fetchall()
    return {row["order_id"] for row in rows}


def record_check(conn: Connection, *, result: CheckResult, run_id: int | None = None) -> int:
    """Store one check and make its status the case's; returns the check id."""
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO homologacao_checks (case_id, status, result, run_id) VALUES (%s, %s, %s, %s) "
            "RETURNING id",
            (result.case_id, result.status, result.model_dump_json(), run_id),
        ).fetchone()
        conn.execute(
            "UPDATE homologacao_cases SET status = %s, checked_at = now() WHERE case_id = %s",
            (result.status, result.case_id),
        )
    assert row is not None
    return int(row["id"])


def unsent_checks(conn: Connection) -> list[StoredCheck]:
    """The latest check of each order's case whose status the ERP has not accepted yet."""
    rows = conn.execute(
        """
        SELECT DISTINCT ON (c.case_id) k.id, c.case_id, c.order_id, k.result, k.sent_at
        FROM homologacao_checks k JOIN homologacao_cases c USING (case_id)
        WHERE c.order_id IS NOT NULL
        ORDER BY c.case_id, k.id DESC
        """
    ).fetchall()
    return [
        StoredCheck(id=r["id"], case_id=r["case_id"], order_id=r["order_id"], result=r["result"])
        for r in rows
        if r["sent_at"] is None
    ]


def mark_sent(conn: Connection, *, check_id: int, error: str | None = None) -> None:
    """`error` None: the ERP accepted the status; otherwise keep why it did not (sent again next run)."""
    with conn.transaction():
        if error is None:
            conn.execute(
                "UPDATE homologacao_checks SET sent_at = now(), send_error = NULL WHERE id = %s", (check_id,)
            )
        else:
            conn.execute(
                "UPDATE homologacao_checks SET send_error = %s WHERE id = %s", (error[:500], check_id)
            )


def case_status(conn: Connection, *, case_id: str) -> str | None:
    row = conn.execute("SELECT status FROM homologacao_cases WHERE case_id = %s", (case_id,)).fetchone()
    return None if row is None else row["status"]
