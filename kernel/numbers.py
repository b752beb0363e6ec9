"""Numbers as people and feeds in Brazil write them, read one way everywhere a text is analysed."""

from __future__ import annotations


def plain_number(written: str, *, dots_group_thousands: bool = True) -> str:
    """`1.234,56` → `1234.56`, `0,5` → `0.5`, `14.300` → `14300`: Python's notation. Dots grouping three
    digits are thousands unless `dots_group_thousands` is off (`5.125 kW` is how a decimal kW is printed);
    any other run of digits and dots comes back as written, for the caller to take or leave."""
    if "," in written:
        return written.replace(".", "").replace(",", ".")
    groups = written.split(".")
    if dots_group_thousands and len(groups) > 1 and all(len(group) == 3 for group in groups[1:]):
        return "".join(groups)
    return written
