"""Knowledge-base rejects in Postgres: documents that could not be indexed, each kept once with its reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

SCHEMA = "documents.sql"  # applied by `postgres.migrate(conn, SCHEMA)`


@dataclass(frozen=True)
class DocumentReject:
    collection: str
    source: str  # path relative to the corpus root
    content_hash: str  # of the file's bytes: a fixed file that breaks again is a new reject
    reason: str
    detail: str


def record_document_rejects(
    conn: psycopg.Connection[Any], *, rejects: Sequence[DocumentReject], run_id: int
) -> int:
    """Keep each rejected document with its reason, once; returns how many rejects are new."""
    new = 0
    with conn.transaction(), conn.cursor() as cur:
        for reject in rejects:
            cur.execute(
                """
                INSERT INTO document_rejects (collection, source, content_hash, reason, detail,
                                              first_seen_run, last_seen_run)
                VALUES (%s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (collection, source, content_hash, reason)
                DO UPDATE SET last_seen_run = EXCLUDED.last_seen_run, last_seen_at = now()
                RETURNING (xmax = 0) AS inserted
                """,
                (
                    reject.collection,
                    reject.source,
                    reject.content_hash,
                    reject.reason,
                    reject.detail.replace("\x00", ""),  # Postgres text cannot hold NUL
                    run_id,
                    run_id,
                ),
            )
            row = cur.fetchone()
            new += bool(row and (row["inserted"] if isinstance(row, dict) else row[0]))
    return new
