"""Knowledge-base rejects in Postgres: documents that could not be indexed, each kept once with its reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from common.rejects import keep_rejects

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
    rows = [
        {
            "collection": reject.collection,
            "source": reject.source,
            "content_hash": reject.content_hash,
            "reason": reject.reason,
            "detail": reject.detail,
            "first_seen_run": run_id,
            "last_seen_run": run_id,
        }
        for reject in rejects
    ]
    return keep_rejects(
        conn, "document_rejects", rows, conflict=("collection", "source", "content_hash", "reason")
    )
