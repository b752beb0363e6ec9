"""The one rejected-rows writer on a real Postgres: every kind of reject kept once with its reason, the
count of new ones the same way for all, a reject seen again moving only its last-seen run and time, and a
NUL kept as U+FFFD instead of failing the write."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from common import postgres
from common.rejects import keep_rejects
from common.settings import Settings


@pytest.fixture
def conn(fresh_settings: Settings) -> Any:
    assert fresh_settings.database_url is not None
    with psycopg.connect(fresh_settings.database_url, row_factory=dict_row, autocommit=True) as conn:
        postgres.migrate(conn, "tariffs.sql", "documents.sql", "erp.sql")
        yield conn


def feed_reject(line: int, run: int, raw: str = "a;b;c") -> dict[str, Any]:
    return {
        "distributor": "greenvolt",
        "source_file": "produtos.csv",
        "line": line,
        "raw": raw,
        "reason": "price: not a number",
        "raw_hash": f"h{line}",
        "first_seen_run": run,
        "last_seen_run": run,
    }


CONFLICT = ("distributor", "source_file", "line", "raw_hash", "reason")


def test_a_reject_is_kept_once_and_seen_again_moves_only_its_last_run(conn: Any) -> None:
    assert keep_rejects(conn, "feed_rejects", [feed_reject(1, 7), feed_reject(2, 7)], conflict=CONFLICT) == 2
    assert keep_rejects(conn, "feed_rejects", [feed_reject(1, 8), feed_reject(3, 8)], conflict=CONFLICT) == 1
    rows = conn.execute(
        "SELECT line, first_seen_run, last_seen_run, last_seen_at >= first_seen_at AS ordered"
        " FROM feed_rejects ORDER BY line"
    ).fetchall()
    assert [(r["line"], r["first_seen_run"], r["last_seen_run"], r["ordered"]) for r in rows] == [
        (1, 7, 8, True),
        (2, 7, 7, True),
        (3, 8, 8, True),
    ]


def test_a_nul_is_kept_as_a_stand_in_instead_of_failing_the_write(conn: Any) -> None:
    assert keep_rejects(conn, "feed_rejects", [feed_reject(1, 1, raw="a\x00b")], conflict=CONFLICT) == 1
    assert conn.execute("SELECT raw FROM feed_rejects").fetchone()["raw"] == "a\ufffdb"


def test_tables_without_runs_are_kept_the_same_way(conn: Any) -> None:
    row = {
        "kind": "order",
        "record_key": "../x",
        "raw": '{"order_id": "../x"}',
        "reason": "bad id",
        "raw_hash": "h",
    }
    assert keep_rejects(conn, "erp_rejects", [row], conflict=("kind", "raw_hash", "reason")) == 1
    assert keep_rejects(conn, "erp_rejects", [row], conflict=("kind", "raw_hash", "reason")) == 0
    assert keep_rejects(conn, "erp_rejects", [], conflict=("kind", "raw_hash", "reason")) == 0
