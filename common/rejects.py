"""The one rejected-rows writer: a job keeps what it could not take (a feed row, a tariff row, a document,
an ERP payload) in its `*_rejects` table with the reason, once per conflict key; seen again, only its
last-seen run and time move. Every table has `first_seen_at` / `last_seen_at`; those of jobs with run ids
also `first_seen_run` / `last_seen_run`."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

NUL_STAND_IN = "\ufffd"  # Postgres text and jsonb cannot hold NUL; the stand-in shows one was there


def keep_rejects(
    conn: psycopg.Connection[Any], table: str, rows: Sequence[Mapping[str, Any]], *, conflict: Sequence[str]
) -> int:
    """Each row (column → value; the same columns in every row) into `table`, in one transaction (a
    savepoint inside the caller's). Returns how many were not there before."""
    if not rows:
        return 0
    columns = list(rows[0])
    updates = [sql.SQL("last_seen_at = now()")]
    if "last_seen_run" in columns:
        updates.append(sql.SQL("last_seen_run = EXCLUDED.last_seen_run"))
    query = sql.SQL(
        "INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
        " RETURNING (xmax = 0) AS inserted"
    ).format(
        table=sql.Identifier(table),
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        values=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        conflict=sql.SQL(", ").join(map(sql.Identifier, conflict)),
        updates=sql.SQL(", ").join(updates),
    )
    new = 0
    with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
        for row in rows:
            cur.execute(query, [without_nul(row[column]) for column in columns])
            inserted = cur.fetchone()
            new += bool(inserted and inserted[0])
    return new


def rejected_line(line: int, raw: str, reason: str, run_id: int) -> dict[str, Any]:
    """The columns a rejected line of a source file has in any table: where, what, why, which run."""
    return {
        "line": line,
        "raw": raw,
        "reason": reason,
        "raw_hash": hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()[:32],
        "first_seen_run": run_id,
        "last_seen_run": run_id,
    }


def without_nul(value: Any) -> Any:
    """`value` with every NUL in its strings (keys and items of dicts and lists included) as U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", NUL_STAND_IN)
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(item) for item in value]
    return value
