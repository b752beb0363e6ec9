"""Realistic defects, one per damaged listing: each must make the parser reject exactly that listing.

Value defects change a cell (a price typed with a letter O, power in kWh, no brand, UTF-8 text saved as
Latin-1). Line defects are marked on the listing and done by the file writer, which alone sees bytes and
lines (a cell too few, Latin-1 bytes in a UTF-8 file, a JSON line cut short). A duplicate is a later copy
of a clean listing.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from samples.feeds.render import Columns, number_text

_LEADING_NUMBER = re.compile(r"[\d.,]+")


@dataclass
class Entry:
    """One listing as its file will hold it: one row, or a kit line and its component lines."""

    file: str
    rows: list[dict[str, Any]]
    defect: str | None = None

    @property
    def head(self) -> dict[str, Any]:
        """The listing's own row (a kit's kit line)."""
        return self.rows[0]


def _header(columns: Columns, entry: Entry, field_name: str) -> str | None:
    return next((h for h in columns.headers.get(field_name, []) if entry.head.get(h) not in (None, "")), None)


def _bad_number(columns: Columns, entry: Entry) -> bool:
    header = _header(columns, entry, "price_brl")
    if header is None:
        return False
    value = entry.head[header]
    if isinstance(value, str):  # a letter O typed for a zero
        entry.head[header] = value[:-1] + "O"
    elif columns.feed.decimal == "comma":  # a US-style number in a Brazilian sheet
        entry.head[header] = f"{value:,.2f}"
    else:  # a Brazilian-style number in a dot-decimal feed
        entry.head[header] = number_text(value, "comma", digits=2, thousands=True, trim=False)
    return True


def _unknown_unit(columns: Columns, entry: Entry) -> bool:
    """Energy for power: `550 Wh`, `4,4 kWh`."""
    header = _header(columns, entry, "power_w")
    if header is None:
        return False
    value = entry.head[header]
    match = _LEADING_NUMBER.match(value) if isinstance(value, str) else None
    digits = match.group() if match else number_text(value, columns.feed.decimal)
    kilo = columns.feed.units.get(header, "").lower().startswith("k")
    entry.head[header] = f"{digits} {'kWh' if kilo else 'Wh'}"
    return True


def _missing_brand(columns: Columns, entry: Entry) -> bool:
    header = _header(columns, entry, "brand")
    if header is None:
        return False
    entry.head[header] = None if columns.feed.format != "csv" else ""
    return True


def _mojibake(columns: Columns, entry: Entry) -> bool:
    header = _header(columns, entry, "title")
    text = entry.head.get(header or "")
    if not isinstance(text, str) or text.isascii():
        return False
    entry.head[header or ""] = text.encode("utf-8").decode("latin-1")
    return True


def _invalid_bytes(columns: Columns, entry: Entry) -> bool:
    header = _header(columns, entry, "title")
    if header is None:
        return False
    entry.head[header] = f"{entry.head[header]} (promoção)"  # the writer saves this line as Latin-1
    return True


def _left_to_the_writer(_columns: Columns, _entry: Entry) -> bool:
    return True


# Defect kind -> what damages a listing's cells; False when the listing has nothing it could damage.
DEFECTS: dict[str, Callable[[Columns, Entry], bool]] = {
    "bad_number": _bad_number,
    "unknown_unit": _unknown_unit,
    "missing_brand": _missing_brand,
    "mojibake": _mojibake,
    "invalid_bytes": _invalid_bytes,
    "column_count": _left_to_the_writer,
    "bad_json": _left_to_the_writer,
}


def inject_defects(
    rng: random.Random, entries: list[Entry], kinds: tuple[str, ...], rate: float, columns: Columns
) -> list[Entry]:
    """Damage `rate` of the listings (at least one per kind), cycling through `kinds`; returns the
    listings with the duplicate copies placed after their originals."""
    if not entries:
        return entries
    clean = list(range(len(entries)))
    rng.shuffle(clean)
    duplicates: list[int] = []
    for turn in range(max(len(kinds), round(rate * len(entries)))):
        kind = kinds[turn % len(kinds)]
        for position, index in enumerate(clean):
            if kind == "duplicate":
                duplicates.append(index)
            elif DEFECTS[kind](columns, entries[index]):
                entries[index].defect = kind
            else:
                continue
            del clean[position]
            break
    copies: dict[int, list[Entry]] = {}
    for index in duplicates:
        copy_at = rng.randrange(index, len(entries))
        copies.setdefault(copy_at, []).append(_duplicate_of(entries[index]))
    return [e for i, original in enumerate(entries) for e in (original, *copies.get(i, []))]


def _duplicate_of(entry: Entry) -> Entry:
    return Entry(entry.file, copy.deepcopy(entry.rows), defect="duplicate")
