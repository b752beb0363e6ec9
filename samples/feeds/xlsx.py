"""A plain SpreadsheetML workbook, written directly: one sheet, shared strings, no styles.

It is what many ERPs export, it reads in Excel and openpyxl, and unlike openpyxl's writer (which stamps
the current time into the file) the same rows always give the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any
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


def _package(sheet_name: str, sheet_xml: str, strings_xml: str) -> dict[str, str]:
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
        "xl/worksheets/sheet1.xml": sheet_xml,
        "xl/sharedStrings.xml": strings_xml,
    }


def write_xlsx(feed: DistributorFeed, entries: list[Entry]) -> bytes:
    """Header row, then every row of every listing; a `column_count` defect adds a stray last cell."""
    headers = header_order(feed)
    table: list[list[Any]] = [headers]
    for entry in entries:
        for row in entry.rows:
            cells = [row.get(h) for h in headers]
            table.append([*cells, "VERIFICAR"] if entry.defect == "column_count" else cells)
    letters = [get_column_letter(n) for n in range(1, max(map(len, table)) + 1)]
    strings: dict[str, int] = {}
    xml_rows = []
    for number, cells in enumerate(table, start=1):
        xml_cells = []
        for letter, value in zip(letters, cells, strict=False):
            if value is None:
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                xml_cells.append(f'<c r="{letter}{number}"><v>{value!r}</v></c>')
            else:
                index = strings.setdefault(str(value), len(strings))
                xml_cells.append(f'<c r="{letter}{number}" t="s"><v>{index}</v></c>')
        xml_rows.append(f'<row r="{number}">{"".join(xml_cells)}</row>')
    sheet = (
        f'{_DECLARATION}<worksheet xmlns="{_MAIN}"><dimension ref="A1:{letters[-1]}{len(table)}"/>'
        f"<sheetData>{''.join(xml_rows)}</sheetData></worksheet>"
    )
    shared = "".join(f'<si><t xml:space="preserve">{escape(text)}</t></si>' for text in strings)
    strings_xml = f'{_DECLARATION}<sst xmlns="{_MAIN}" uniqueCount="{len(strings)}">{shared}</sst>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _package(feed.sheet or "Sheet1", sheet, strings_xml).items():
            archive.writestr(
                zipfile.ZipInfo(name, date_time=_FIXED_TIME), text.encode("utf-8"), zipfile.ZIP_DEFLATED
            )
    return out.getvalue()
