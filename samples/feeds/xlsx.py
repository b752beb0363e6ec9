"""A plain SpreadsheetML workbook, written directly: one sheet, shared strings, no styles.

It is what many ERPs export, it reads in Excel and openpyxl, and unlike openpyxl's writer (which stamps
the current time into the file) the same rows always give the same bytes.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

from catalog.feeds import DistributorFeed
from samples.feeds.defects import Entry
from samples.feeds.render import header_order

_FIXED_TIME = (2024, 7, 1, 8, 0, 0)  # zip entries carry a time: a fixed one keeps the bytes reproducible
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def _relationships(*targets: tuple[str, str]) -> str:
    links = "".join(
        f'<Relationship Id="rId{n}" Target="{target}" Type="{_DOC_RELS}/{kind}"/>'
        for n, (target, kind) in enumerate(targets, start=1)
    )
    return f'{_DECLARATION}<Relationships xmlns="{_RELS}">{links}</Relationships>'


def _package(sheet_name: str) -> dict[str, str]:
    """The parts around the sheet and its strings."""
    types = (
        f'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CONTENT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CONTENT}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CONTENT}.sharedStrings+xml"/></Types>'
    )
    workbook = (
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}">'
        f'<sheets><sheet name="{escape(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    return {
        "[Content_Types].xml": _DECLARATION + types,
        "_rels/.rels": _relationships(("xl/workbook.xml", "officeDocument")),
        "xl/workbook.xml": _DECLARATION + workbook,
        "xl/_rels/workbook.xml.rels": _relationships(
            ("worksheets/sheet1.xml", "worksheet"), ("sharedStrings.xml", "sharedStrings")
        ),
    }


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _write_entry(archive: zipfile.ZipFile, name: str, head: str, body: BinaryIO, tail: str) -> None:
    """One part from its text around a body that waits in a file."""
    start, end = head.encode("utf-8"), tail.encode("utf-8")
    info = _entry(name)
    info.file_size = len(start) + body.seek(0, io.SEEK_END) + len(end)  # so zipfile knows if it needs ZIP64
    body.seek(0)
    with archive.open(info, "w") as part:
        part.write(start)
        shutil.copyfileobj(body, part)
        part.write(end)


class XlsxWriter:
    """Header row, then every row of every listing; a `column_count` defect adds a stray last cell.

    Rows and shared strings wait in temporary files until `close`: the sheet opens with its size, known
    only then. What stays in memory is each distinct string's index, which shared strings need."""

    def __init__(self, feed: DistributorFeed, path: Path) -> None:
        self._path, self._sheet_name = path, feed.sheet or "Sheet1"
        self._headers = header_order(feed)
        self._letters = [get_column_letter(n) for n in range(1, len(self._headers) + 2)]  # + a stray cell
        self._strings: dict[str, int] = {}
        # Both outlive any with-block here: `close` closes them.
        self._rows: BinaryIO = tempfile.TemporaryFile(dir=path.parent)  # noqa: SIM115
        self._shared: BinaryIO = tempfile.TemporaryFile(dir=path.parent)  # noqa: SIM115
        self._count = self._width = 0
        self._add([self._headers])

    def _index(self, text: str) -> int:
        index = self._strings.get(text)
        if index is None:
            index = self._strings[text] = len(self._strings)
            self._shared.write(f'<si><t xml:space="preserve">{escape(text)}</t></si>'.encode())
        return index

    def _add(self, table: list[list[Any]]) -> None:
        xml_rows = []
        for cells in table:
            self._count += 1
            self._width = max(self._width, len(cells))
            xml_cells = []
            for letter, value in zip(self._letters, cells, strict=False):
                if value is None:
                    continue
                if isinstance(value, int | float) and not isinstance(value, bool):
                    xml_cells.append(f'<c r="{letter}{self._count}"><v>{value!r}</v></c>')
                else:
                    xml_cells.append(
                        f'<c r="{letter}{self._count}" t="s"><v>{self._index(str(value))}</v></c>'
                    )
            xml_rows.append(f'<row r="{self._count}">{"".join(xml_cells)}</row>')
        self._rows.write("".join(xml_rows).encode("utf-8"))

    def write(self, entries: Sequence[Entry]) -> None:
        table = []
        for entry in entries:
            for row in entry.rows:
                cells = [row.get(h) for h in self._headers]
                table.append([*cells, "VERIFICAR"] if entry.defect == "column_count" else cells)
        self._add(table)

    def close(self) -> None:
        with self._rows, self._shared, zipfile.ZipFile(self._path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in _package(self._sheet_name).items():
                archive.writestr(_entry(name), text.encode("utf-8"))
            dimension = f"A1:{self._letters[self._width - 1]}{self._count}"
            sheet = f'{_DECLARATION}<worksheet xmlns="{_MAIN}"><dimension ref="{dimension}"/><sheetData>'
            _write_entry(archive, "xl/worksheets/sheet1.xml", sheet, self._rows, "</sheetData></worksheet>")
            strings = f'{_DECLARATION}<sst xmlns="{_MAIN}" uniqueCount="{len(self._strings)}">'
            _write_entry(archive, "xl/sharedStrings.xml", strings, self._shared, "</sst>")
