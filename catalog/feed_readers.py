"""Feed bytes → raw rows, per format (csv, xlsx, jsonl), keeping each row's line number and original text.

A row that cannot be read cleanly (bad bytes, mojibake, wrong column count, broken JSON) still comes
back, with its problem, so the caller can reject it with a reason and go on. A file that cannot be read
at all raises `FeedFileError`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain

from openpyxl import load_workbook

from catalog.feeds import DistributorFeed


class RejectCode(StrEnum):
    """The first word of every reject reason, for counting rejects by cause."""

    UNREADABLE_FILE = "unreadable_file"
    BAD_HEADER = "bad_header"
    BAD_ENCODING = "bad_encoding"
    COLUMN_COUNT = "column_count"
    BAD_JSON = "bad_json"
    MISSING_FIELD = "missing_field"
    BAD_VALUE = "bad_value"
    UNKNOWN_UNIT = "unknown_unit"
    UNKNOWN_CATEGORY = "unknown_category"
    MISSING_SPEC = "missing_spec"
    KIT_STRUCTURE = "kit_structure"
    DUPLICATE = "duplicate"


class FeedFileError(Exception):
    def __init__(self, code: RejectCode, detail: str) -> None:
        super().__init__(f"{code}: {detail}")


@dataclass(frozen=True)
class RawRow:
    line: int  # 1-based line (csv, jsonl) or sheet row (xlsx) where the row starts
    raw: str  # the row as written; undecodable bytes shown as \xNN
    values: dict[str, object] = field(default_factory=dict)  # header key -> cell
    problem: tuple[RejectCode, str] | None = None


# Undecodable bytes survive decoding as lone surrogates (errors="surrogateescape").
_UNDECODABLE = re.compile("[\udc80-\udcff]")
# UTF-8 text read as Latin-1 ("MÃ³dulo") or as Windows-1252 ("MÃ“DULO"), or text that was already decoded
# with replacement characters.
_MOJIBAKE = re.compile("[ÃÂ][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]|\ufffd")


def header_key(header: object) -> str:
    """How headers are matched: case, runs of spaces and a byte-order mark do not count."""
    return " ".join(str(header or "").replace("\ufeff", "").split()).casefold()


def is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _text_problem(text: str, encoding: str) -> tuple[RejectCode, str] | None:
    if bad := _UNDECODABLE.search(text):
        return (
            RejectCode.BAD_ENCODING,
            f"bytes that are not valid {encoding}: {_printable(bad.group())}",
        )
    if bad := _MOJIBAKE.search(text):
        return (
            RejectCode.BAD_ENCODING,
            f"mojibake (UTF-8 read as Latin-1, or lost characters): {bad.group()!r}",
        )
    return None


def _printable(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _expected_headers(feed: DistributorFeed) -> set[str]:
    headers = set(feed.columns)
    if feed.kits is not None:
        headers |= set(feed.kits.component_columns) | {feed.kits.row_type_column or ""}
    return {header_key(h) for h in headers} - {""}


def _check_header(feed: DistributorFeed, header: list[str]) -> None:
    if missing := sorted(_expected_headers(feed) - set(header)):
        raise FeedFileError(RejectCode.BAD_HEADER, f"header lacks columns {missing}; it has {header}")


def _read_csv(feed: DistributorFeed, data: bytes) -> Iterator[RawRow]:
    text = data.decode(feed.encoding, "surrogateescape")
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(lines, delimiter=feed.delimiter)
    header: list[str] | None = None
    consumed = 0
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as error:
            if header is None:
                raise FeedFileError(
                    RejectCode.UNREADABLE_FILE, f"csv: {error} (line {reader.line_num})"
                ) from None
            # One record the csv module cannot read (a field over its size limit): the reader goes on
            # at the next line, so that record alone is rejected.
            start, consumed = consumed, reader.line_num
            raw = "".join(lines[start:consumed]).rstrip("\r\n")
            yield RawRow(start + 1, _printable(raw), {}, (RejectCode.BAD_VALUE, f"csv: {error}"))
            continue
        if cells is None:
            break
        start, consumed = consumed, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [header_key(cell) for cell in cells]
            _check_header(feed, header)
            continue
        raw = "".join(lines[start:consumed]).rstrip("\r\n")
        problem = _text_problem(raw, feed.encoding)
        if problem is None and len(cells) != len(header):
            problem = RejectCode.COLUMN_COUNT, f"expected {len(header)} columns, got {len(cells)}"
        yield RawRow(start + 1, _printable(raw), dict(zip(header, cells, strict=False)), problem)
    if header is None:
        raise FeedFileError(RejectCode.BAD_HEADER, "no header row")


def _read_xlsx(feed: DistributorFeed, data: bytes) -> Iterator[RawRow]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook[feed.sheet] if feed.sheet else workbook.worksheets[0]
            table = [
                (number, list(cells)) for number, cells in enumerate(sheet.iter_rows(values_only=True), 1)
            ]
        finally:
            workbook.close()
    except Exception as error:  # openpyxl raises anything from BadZipFile to KeyError on a broken file
        raise FeedFileError(RejectCode.UNREADABLE_FILE, f"xlsx: {type(error).__name__}: {error}") from None
    filled = [(number, cells) for number, cells in table if any(not is_blank(cell) for cell in cells)]
    if not filled:
        raise FeedFileError(RejectCode.BAD_HEADER, "no header row")
    header = [header_key(cell) for cell in filled[0][1]]
    while header and not header[-1]:
        header.pop()
    _check_header(feed, header)
    for number, cells in filled[1:]:
        while cells and is_blank(cells[-1]):
            cells.pop()
        raw = json.dumps(cells, ensure_ascii=False, default=str)
        problem = _text_problem(" ".join(c for c in cells if isinstance(c, str)), "xlsx")
        if problem is None and len(cells) > len(header):
            problem = RejectCode.COLUMN_COUNT, f"expected {len(header)} columns, got {len(cells)}"
        yield RawRow(number, raw, dict(zip(header, cells, strict=False)), problem)


def _flatten(document: dict[str, object], prefix: str = "") -> Iterator[tuple[str, object]]:
    for key, value in document.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield header_key(f"{prefix}{key}"), value


def _read_jsonl(feed: DistributorFeed, data: bytes) -> Iterator[RawRow]:
    text = data.decode(feed.encoding, "surrogateescape").removeprefix("\ufeff")
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        problem = _text_problem(line, feed.encoding)
        values: dict[str, object] = {}
        if problem is None:
            try:
                document = json.loads(line)
            except json.JSONDecodeError as error:
                problem = RejectCode.BAD_JSON, f"invalid JSON: {error}"
            else:
                if isinstance(document, dict):
                    values = dict(_flatten(document))
                else:
                    problem = RejectCode.BAD_JSON, f"expected a JSON object, got {type(document).__name__}"
        yield RawRow(number, _printable(line), values, problem)


_READERS = {"csv": _read_csv, "xlsx": _read_xlsx, "jsonl": _read_jsonl}


def read_rows(feed: DistributorFeed, data: bytes) -> Iterator[RawRow]:
    """All non-blank data rows of one file, in file order, read as they are taken (a large file is never
    held as rows all at once); FeedFileError, before any row, when the file cannot be read at all."""
    rows = _READERS[feed.format](feed, data)
    first = next(rows, None)  # every reader finds a file unreadable before its first row
    return rows if first is None else chain([first], rows)
