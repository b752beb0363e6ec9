"""Listings → file bytes, per format, byte-for-byte reproducible; line defects are done here."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from catalog.feeds import DistributorFeed
from samples.feeds.defects import Entry
from samples.feeds.render import header_order
from samples.feeds.xlsx import write_xlsx

_CUT_JSON = 7  # characters a truncated JSON line loses


def _target_row(entry: Entry) -> int:
    """Which row a line defect hits: a kit's last component line, else the listing's only line."""
    return len(entry.rows) - 1 if entry.defect == "column_count" else 0


def write_csv(feed: DistributorFeed, entries: list[Entry]) -> bytes:
    headers = header_order(feed)
    # "utf-8-sig" would put a byte-order mark before every line encoded alone: write it once.
    with_bom = feed.encoding.replace("_", "-").lower() == "utf-8-sig"
    line_encoding = "utf-8" if with_bom else feed.encoding
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=feed.delimiter)

    def line(cells: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    out = bytearray(b"\xef\xbb\xbf" if with_bom else b"")
    out += line(headers).encode(line_encoding)
    for entry in entries:
        for position, row in enumerate(entry.rows):
            cells = ["" if row.get(h) is None else row[h] for h in headers]
            hit = entry.defect in ("column_count", "invalid_bytes") and position == _target_row(entry)
            if hit and entry.defect == "column_count":
                cells.pop()
            out += line(cells).encode("latin-1" if hit and entry.defect == "invalid_bytes" else line_encoding)
    return bytes(out)


def _nested(row: dict[str, Any]) -> dict[str, Any]:
    """`{"specs.grid.phases": 3}` → `{"specs": {"grid": {"phases": 3}}}`."""
    document: dict[str, Any] = {}
    for path, value in row.items():
        *parents, leaf = path.split(".")
        node = document
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return document


def write_jsonl(feed: DistributorFeed, entries: list[Entry]) -> bytes:
    out = bytearray()
    for entry in entries:
        line = json.dumps(_nested(entry.head), ensure_ascii=False)
        if entry.defect == "bad_json":
            line = line[:-_CUT_JSON]
        out += (line + "\n").encode("latin-1" if entry.defect == "invalid_bytes" else feed.encoding)
    return bytes(out)


WRITERS: dict[str, Callable[[DistributorFeed, list[Entry]], bytes]] = {
    "csv": write_csv,
    "xlsx": write_xlsx,
    "jsonl": write_jsonl,
}
