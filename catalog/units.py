"""Parse what distributors write: `R$ 1.234,56`, `550Wp`, `5.000 W`, `5,5 kW`, `-0,29 %/°C`, `Trifásico`.

Every parser takes a raw value (text from a CSV, or a number an XLSX/JSON cell already holds) and either
returns a number in the canonical unit of its dimension or raises ValueError with a message that quotes
the value. `UnknownUnitError` (a ValueError) says the number was fine but its unit is not one we know.
"""

from __future__ import annotations

import re
from typing import Literal

from kernel.numbers import DecimalStyle
from kernel.numbers import parse_decimal as parse_written
from kernel.text import fold

Dimension = Literal[
    "power", "voltage", "current", "energy", "length", "section", "percent", "temp_coeff", "days"
]

# Unit spellings (case-folded) → factor to the dimension's canonical unit, which is listed first.
UNITS: dict[str, dict[str, float]] = {
    "power": {"w": 1, "wp": 1, "kw": 1e3, "kwp": 1e3},  # no MW: case-folded it would also read as mW
    "voltage": {"v": 1, "vdc": 1, "vcc": 1, "vac": 1, "vca": 1, "kv": 1e3},
    "current": {"a": 1, "ma": 1e-3},
    "energy": {"kwh": 1, "wh": 1e-3},
    "length": {"m": 1, "metro": 1, "metros": 1, "km": 1e3},
    "section": {"mm2": 1, "mm²": 1},
    "percent": {"%": 1},
    "temp_coeff": {"%/°c": 1, "%/ºc": 1, "%/c": 1, "%/k": 1},
    "days": {"d": 1, "dia": 1, "dias": 1, "day": 1, "days": 1},
}

_MEASURE = re.compile(r"\s*([+-]?\d[\d.,]*)\s*(.*?)\s*")
_MONEY_MARKS = re.compile(r"^\s*(?:R\$|BRL)\s*|\s*(?:BRL|reais)\s*$", re.IGNORECASE)

_PHASES = {
    1: ("1", "1f", "1ph", "mono", "monofasico", "single", "single-phase", "single phase"),
    2: ("2", "2f", "2ph", "bi", "bifasico", "split", "split-phase", "split phase", "two-phase"),
    3: ("3", "3f", "3ph", "tri", "trifasico", "three-phase", "three phase"),
}
_PHASE_WORDS = {word: phases for phases, words in _PHASES.items() for word in words}


class UnknownUnitError(ValueError):
    """The number parsed, but its unit is not one of the units known for its dimension."""


def _number_or_text(value: object) -> float | str:
    if isinstance(value, bool):  # bool is an int subclass, and never a quantity
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"expected a number, got {value!r}")


def parse_decimal(value: object, decimal: DecimalStyle = "dot") -> float:
    """A cell's number: as it is when the file already holds one, else its text read the `decimal` way
    (`kernel.numbers`)."""
    parsed = _number_or_text(value)
    return parsed if isinstance(parsed, float) else parse_written(parsed, decimal)


def parse_int(value: object, decimal: DecimalStyle = "dot") -> int:
    number = parse_decimal(value, decimal)
    if not number.is_integer():
        raise ValueError(f"not a whole number: {value!r}")
    return int(number)


def parse_money_brl(value: object, decimal: DecimalStyle = "dot") -> float:
    """`R$ 1.234,56`, `1234.56`, `BRL 99,90` → 1234.56; negative amounts are refused."""
    parsed = _number_or_text(value)
    amount = parse_decimal(_MONEY_MARKS.sub("", parsed) if isinstance(parsed, str) else parsed, decimal)
    if amount < 0:
        raise ValueError(f"negative price: {value!r}")
    return amount


def parse_measure(
    value: object, dimension: Dimension, *, default_unit: str | None = None, decimal: DecimalStyle = "dot"
) -> float:
    """A number with an optional unit (`550Wp`, `5.000 W`, `0,55 kW`) → the canonical unit of `dimension`.

    A bare number is taken in `default_unit` (the canonical unit when None).
    """
    units = UNITS[dimension]
    parsed = _number_or_text(value)
    if isinstance(parsed, float):
        number, unit = parsed, default_unit
    else:
        match = _MEASURE.fullmatch(parsed.replace("\u00a0", " "))
        if match is None:
            raise ValueError(f"not a {dimension} value: {parsed!r}")
        number, unit = parse_decimal(match.group(1), decimal), match.group(2) or default_unit
    if unit is None:
        return number
    factor = units.get(unit.casefold().replace(" ", ""))
    if factor is None:
        raise UnknownUnitError(f"unknown {dimension} unit {unit!r} in {value!r} (known: {', '.join(units)})")
    return round(number * factor, 6)


def parse_phases(value: object) -> int:
    """1, `1F`, `Monofásico`, `single-phase` → 1; likewise 2 (bifásico, split) and 3 (trifásico)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value in _PHASES:
        return int(value)
    if isinstance(value, str):
        word = fold(value)
        if word in _PHASE_WORDS:
            return _PHASE_WORDS[word]
    raise ValueError(f"not a number of phases: {value!r}")
