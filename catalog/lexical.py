"""Exact terms for the sparse lexical vector of catalog search.

Documents (title + brand + model + spec phrases) and queries go through the same `lexical_vector`,
so a query term and a product term meet only if they normalise to the same string: accents and case
are folded, model codes stay whole next to their parts, and quantities with units get one spelling
("5 kW", "5kW", "5.000 W", "5000W" → "5000w"). Weights are raw term frequencies: the engine applies IDF.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass

from kernel.numbers import parse_decimal
from kernel.text import fold
from kernel.vectors import SparseVector

# Light on purpose: words like "sem" (without) or "solar" carry meaning in a product query.
STOPWORDS = frozenset(
    {"a", "o", "as", "os", "um", "uma", "uns", "umas", "de", "da", "do", "das", "dos", "e", "em", "no", "na"}
    | {"nos", "nas", "ao", "aos", "para", "pra", "por", "com", "que", "ou"}
)

# What a text's lexical vector holds changes with the analysis below: the catalog index keeps this with each
# product's content hash, so a change re-indexes the catalog instead of leaving old vectors that queries
# analysed the new way no longer match. Raise it with every change to units, words or codes.
ANALYSIS = "2"

# unit as written (folded) -> (canonical unit, factor to it)
_UNITS: dict[str, tuple[str, float]] = {
    "w": ("w", 1.0),
    "wp": ("w", 1.0),
    "watt": ("w", 1.0),
    "watts": ("w", 1.0),
    "kw": ("w", 1000.0),
    "kwp": ("w", 1000.0),
    "kilowatt": ("w", 1000.0),
    "kilowatts": ("w", 1000.0),
    "quilowatt": ("w", 1000.0),
    "quilowatts": ("w", 1000.0),
    # Folded, "MW" and "mW" are one word; nobody shops for milliwatts, plants are sized in megawatts.
    "mw": ("w", 1e6),
    "megawatt": ("w", 1e6),
    "megawatts": ("w", 1e6),
    "k": ("w", 1000.0),  # "inversor 5k", Deye "SUN-5K-…": a bare k after a number means kW in this trade
    "wh": ("wh", 1.0),
    "kwh": ("wh", 1000.0),
    "mwh": ("wh", 1e6),
    "v": ("v", 1.0),
    "vac": ("v", 1.0),
    "vdc": ("v", 1.0),
    "a": ("a", 1.0),
    "ah": ("ah", 1.0),
    "mm": ("mm", 1.0),
    "mm2": ("mm", 1.0),  # cable sections: "6mm", "6 mm²" and "6mm2" are the same cable
    "m": ("m", 1.0),
}
# "a" and "k" only count when glued to the number: "de 3 a 5 kW" is a range, not 3 amperes.
_GLUED_ONLY_UNITS = ("k", "a")


def _alternation(words: list[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_SPACED_UNITS = _alternation([u for u in _UNITS if u not in _GLUED_ONLY_UNITS])
# A number followed by "-" or "/" belongs to a code ("100234-01", "220/380v"), which WORD keeps whole.
_QUANTITY = (
    rf"(?<![\w.,])(?P<number>\d+(?:[.,]\d+)*)"
    rf"(?:\s*(?P<unit>{_SPACED_UNITS})|(?P<glued_unit>{_alternation(list(_GLUED_ONLY_UNITS))}))?"
    rf"(?![\w\-/])"
)
WORD = r"[a-z0-9]+(?:[-/_.][a-z0-9]+)*"
_QUANTITY_RE = re.compile(_QUANTITY)
_TOKEN_RE = re.compile(rf"{_QUANTITY}|(?P<word>{WORD})")
_CODE_SEPARATORS_RE = re.compile(r"[-/_.]")


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str  # canonical: w, wh, v, a, ah, mm, m; "" for a bare number

    @property
    def term(self) -> str:
        return f"{self.value:.3f}".rstrip("0").rstrip(".") + self.unit


def _parse_number(written: str, kilo_unit: bool) -> float | None:
    """The number written, or None for digit runs that are no number ("103.10400.0002", a part code)."""
    try:
        return parse_decimal(written, dots_group_thousands=not kilo_unit)
    except ValueError:
        return None


def _quantity(match: re.Match[str]) -> Quantity | None:
    written_unit = match["unit"] or match["glued_unit"]
    unit, factor = _UNITS[written_unit] if written_unit else ("", 1.0)
    value = _parse_number(match["number"], kilo_unit=bool(written_unit and written_unit.startswith("k")))
    return None if value is None else Quantity(value * factor, unit)


def quantities(folded_text: str) -> list[Quantity]:
    """Every number in already folded text, with its unit converted to the canonical one."""
    return [q for q in map(_quantity, _QUANTITY_RE.finditer(folded_text)) if q is not None]


def _keep(term: str) -> bool:
    return (len(term) > 1 or term.isdigit()) and term not in STOPWORDS


def _code_part(part: str) -> str:
    # "SUN-5K-SG03" holds a power worth matching; "100234-01" holds a serial to keep as written.
    match = _QUANTITY_RE.fullmatch(part)
    quantity = _quantity(match) if match and (match["unit"] or match["glued_unit"]) else None
    return part if quantity is None else quantity.term


def terms(text: str) -> list[str]:
    """The exact terms of a text, in order, repeated as often as they occur."""
    found: list[str] = []
    for match in _TOKEN_RE.finditer(fold(text)):
        word = match["word"]
        if word is None:
            quantity = _quantity(match)
            found.append(match[0].strip() if quantity is None else quantity.term)
            continue
        if _keep(word):
            found.append(word)
        if _CODE_SEPARATORS_RE.search(word):
            found.extend(p for p in map(_code_part, _CODE_SEPARATORS_RE.split(word)) if _keep(p))
    return found


def term_index(term: str) -> int:
    """Stable across processes and machines, unlike the salted built-in hash()."""
    return zlib.crc32(term.encode("utf-8")) % 2**31


def lexical_vector(text: str) -> SparseVector:
    weights: Counter[int] = Counter()
    for term, count in Counter(terms(text)).items():
        weights[term_index(term)] += count  # a hash collision merges two terms rather than losing one
    indices = sorted(weights)
    return SparseVector(indices=indices, values=[float(weights[i]) for i in indices])
