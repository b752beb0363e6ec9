"""Listings → feed files, per format, byte-for-byte reproducible; line defects are done here.

A writer takes a file's listings batch after batch and writes them as they come, so a file may hold more
listings than fit in memory.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from catalog.feeds import DistributorFeed
from samples.feeds.defects import Entry
from samples.feeds.render import header_order
from samples.feeds.xlsx import XlsxWriter

_CUT_JSON = 7  # characters a truncated JSON line loses


class FeedWriter(Protocol):
    def write(self, entries: Sequence[Entry]) -> None: ...

    def close(self) -> None: ...


def _target_row(entry: Entry) -> int:
    """Which row a line defect hits: a kit's last component line, else the listing's only line."""
    return len(entry.rows) - 1 if entry.defect == "column_count" else 0


class CsvWriter:
    def __init__(self, feed: DistributorFeed, path: Path) -> None:
        self._headers = header_order(feed)
        # "utf-8-sig" would put a byte-order mark before every line encoded alone: write it once.
        with_bom = feed.encoding.replace("_", "-").lower() == "utf-8-sig"
        self._encoding = "utf-8" if with_bom else feed.encoding
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, delimiter=feed.delimiter)
        self._file: BinaryIO = path.open("wb")
        self._file.write(
            (b"\xef\xbb\xbf" if with_bom else b"") + self._line(self._headers).encode(self._encoding)
        )

    def _line(self, cells: list[Any]) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._csv.writerow(cells)
        return self._buffer.getvalue()

    def write(self, entries: Sequence[Entry]) -> None:
        out = bytearray()
        for entry in entries:
            for position, row in enumerate(entry.rows):
                cells = ["" if row.get(h) is None else row[h] for h in self._headers]
                hit = entry.defect in ("column_count", "invalid_bytes") and position == _target_row(entry)
                if hit and entry.defect == "column_count":
                    cells.pop()
                latin = hit and entry.defect == "invalid_bytes"
                out += self._line(cells).encode("latin-1" if latin else self._encoding)
        self._file.write(out)

    def close(self) -> None:
        self._file.close()


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


class JsonlWriter:
    def __init__(self, feed: DistributorFeed, path: Path) -> None:
        self._encoding = feed.encoding
        self._file: BinaryIO = path.open("wb")

    def write(self, entries: Sequence[Entry]) -> None:
        out = bytearray()
        for entry in entries:
            line = json.dumps(_nested(entry.head), ensure_ascii=False)
            if entry.defect == "bad_json":
                line = line[:-_CUT_JSON]
            out += (line + "\n").encode("latin-1" if entry.defect == "invalid_bytes" else self._encoding)
        self._file.write(out)

    def close(self) -> None:
        self._file.close()


WRITERS: dict[str, Callable[[DistributorFeed, Path], FeedWriter]] = {
    "csv": CsvWriter,
    "xlsx": XlsxWriter,
    "jsonl": JsonlWriter,
}
