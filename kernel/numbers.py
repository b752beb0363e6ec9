"""Numbers as people and feeds in Brazil write them, read one way everywhere.

Three readings, one per kind of source:
- `comma`: a Brazilian table or feed: `1.234,56`, `451,66`, `,00`; dots group thousands in threes.
- `dot`: a feed in the international style: `1,234.56`.
- `either`: what a person wrote (a question, a document, a spec value): a comma is the decimal mark;
  without one, dots grouping three digits are thousands (`1.200 kWh`) unless `dots_group_thousands` is
  off, where a source prints decimals with a dot (`-46.633`, `5.125 kW`).
"""

from __future__ import annotations

import re
from typing import Literal

DecimalStyle = Literal["comma", "dot", "either"]

# A number as written in running text, for a caller's pattern: grouped thousands or plain digits.
WRITTEN_NUMBER = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?"

# Each pattern holds at least one digit (the lookahead): a lone sign or mark is no number.
_PATTERNS = {
    "comma": re.compile(r"[+-]?(?=,?\d)(?:\d{1,3}(?:\.\d{3})+|\d*)(?:,\d+)?"),
    "dot": re.compile(r"[+-]?(?=\.?\d)(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d+)?"),
}
_MARKS = {"comma": (".", ","), "dot": (",", ".")}  # (thousands, decimal)


def plain_number(written: str, *, dots_group_thousands: bool = True) -> str:
    """The `either` reading as Python's notation, for text analysis: `1.234,56` → `1234.56`, `0,5` →
    `0.5`, `14.300` → `14300`; any other run of digits and dots (`103.10400.0002`, a part code) comes
    back as written, for the caller to take or leave."""
    if "," in written:
        return written.replace(".", "").replace(",", ".")
    groups = written.split(".")
    if dots_group_thousands and len(groups) > 1 and all(len(group) == 3 for group in groups[1:]):
        return "".join(groups)
    return written


def parse_decimal(
    written: str, decimal: DecimalStyle = "either", *, dots_group_thousands: bool = True
) -> float:
    """The number `written` holds, read the `decimal` way (see the module); ValueError quoting it if the
    text is not one number in that style."""
    text, style = written.strip().replace("\u00a0", ""), decimal
    if decimal == "either":
        # Read, the number is in Python's notation: the dot style (plain_number leaves no comma).
        text, style = plain_number(text, dots_group_thousands=dots_group_thousands), "dot"
    if not _PATTERNS[style].fullmatch(text):
        raise ValueError(f"not a number ({decimal} decimals): {written!r}")
    thousands, point = _MARKS[style]
    return float(text.replace(thousands, "").replace(point, "."))
