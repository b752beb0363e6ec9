"""Write an offer the way one distributor does: its headers, labels, units, number style and titles.

Headers, category labels, value labels and units come from the distributor's entry in catalog/feeds.yaml,
so the sample always matches the layouts the parser reads; `Style` holds what a layout does not say
(whether numbers carry units, `R$`, thousands separators).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from catalog.feeds import RECORD_FIELDS, SPEC_FIELDS, DistributorFeed
from catalog.units import UNITS
from samples.feeds.market import SampleOffer, SampleProduct

Language = Literal["pt", "en"]
_SUFFIXES = {
    "power": " W",
    "voltage": " V",
    "current": " A",
    "temp_coeff": " %/°C",
    "percent": " %",
    "energy": " kWh",
    "section": " mm²",
    "length": " m",
    "days": " dias",
}


@dataclass(frozen=True)
class Style:
    language: Language
    native_numbers: bool = False  # XLSX and JSON cells hold numbers, not text
    unit_suffixes: bool = False  # "41,7 V" rather than "41,7"
    money_prefix: bool = False  # "R$ 1.234,56"
    thousands: bool = False  # "5.000 W"


@lru_cache(maxsize=1)
def _titles() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "titles.yaml").read_text("utf-8"))
    return loaded


def number_text(
    value: float, decimal: str, *, digits: int = 3, thousands: bool = False, trim: bool = True
) -> str:
    """`1234.5` → `1.234,5` (comma style, thousands) or `1234.5` (dot style); `trim` drops trailing zeros."""
    text = f"{value:,.{digits}f}" if thousands else f"{value:.{digits}f}"
    if digits and trim:
        text = text.rstrip("0").rstrip(".")
    return text.translate(str.maketrans(",.", ".,")) if decimal == "comma" else text


def labels(language: Language) -> dict[str, dict[Any, str]]:
    found: dict[str, dict[Any, str]] = _titles()["labels"][language]
    return found


def title_parts(product: SampleProduct, language: Language, decimal: str) -> dict[str, str]:
    """Every placeholder a title template may use for this product, in the distributor's language."""
    words, specs = labels(language), product.specs

    def num(value: float) -> str:
        return number_text(value, decimal, digits=2)

    parts = {key: num(value) for key, value in specs.items() if isinstance(value, int | float)}
    parts.update({key: str(value) for key, value in specs.items() if isinstance(value, str)})
    parts.update({key: words[key][specs[key]] for key in words if key in specs})
    names = {
        "power_w": "power",
        "ac_voltage_v": "ac_voltage",
        "voltage_v": "voltage",
        "max_dc_voltage_v": "max_voltage",
    }
    parts.update({name: parts[key] for key, name in names.items() if key in parts})
    kilowatts = num(specs.get("power_w", 0) / 1000)
    parts.update(
        kw=kilowatts,
        kwp=kilowatts,
        kwh=parts.get("capacity_kwh", ""),
        amps=parts.get("max_dc_current_a", ""),
        slots=parts.get("module_slots", ""),
        inputs=parts.get("string_inputs", ""),
        kv=parts.get("voltage_kv", ""),
        length=parts.get("length_m", ""),
        section=parts.get("section", parts.get("section_mm2", "")),
    )
    if product.components:
        parts["module_brand"] = product.components[0][0].brand
        parts["inverter_brand"] = product.components[1][0].brand
    return parts


class _Parts(dict[str, str]):
    """Title placeholders; one a product lacks (a CEC module's `cell`) is left out of its title."""

    def __missing__(self, key: str) -> str:
        return ""


def title(offer: SampleOffer, language: Language, decimal: str) -> str:
    template: str = _titles()["titles"][offer.distributor][offer.product.category]
    parts = _Parts(
        title_parts(offer.product, language, decimal), brand=offer.brand_text, model=offer.model_text
    )
    return " ".join(template.format_map(parts).split())


def header_order(feed: DistributorFeed) -> list[str]:
    """The columns of a CSV/XLSX file in layout order; kit-line feeds start with the row type column."""
    headers = list(feed.columns)
    if feed.kits is not None and feed.kits.layout == "header_then_components":
        headers = [feed.kits.row_type_column or "", *headers]
        headers += [h for h in feed.kits.component_columns if h not in headers]
    return headers


class Columns:
    """A feed layout read backwards: canonical field → the header, label or unit the distributor uses."""

    def __init__(self, feed: DistributorFeed) -> None:
        self.feed = feed
        self.headers: dict[str, list[str]] = {}
        for header, field in feed.columns.items():
            self.headers.setdefault(field, []).append(header)
        self._category_labels: dict[str, str] = {}
        for label, category in feed.categories.items():
            self._category_labels.setdefault(category, label)
        self._value_labels = {
            field: {value: label for label, value in reversed(mapping.items())}
            for field, mapping in feed.value_maps.items()
        }

    def category_label(self, category: str) -> str:
        return self._category_labels[category]

    def value_label(self, field: str, value: str) -> str:
        return self._value_labels.get(field, {}).get(value, value)

    def in_column_unit(self, header: str, value: float) -> float:
        unit = self.feed.units.get(header)
        if unit is None:
            return value
        return value / UNITS[SPEC_FIELDS[self.feed.columns[header]]][unit.casefold()]


def cell(columns: Columns, style: Style, header: str, field: str, value: Any, product: SampleProduct) -> Any:
    """One value as this distributor writes it in this column."""
    kind = RECORD_FIELDS.get(field) or SPEC_FIELDS[field]
    decimal = columns.feed.decimal
    if kind == "category":
        return columns.category_label(value)
    if kind == "text":
        return columns.value_label(field, value) if isinstance(value, str) else value
    if kind == "phases":
        return value if style.native_numbers else labels(style.language)["phases"][value]
    if style.native_numbers:
        return columns.in_column_unit(header, value) if kind in UNITS else value
    if kind == "money":
        text = number_text(value, decimal, digits=2, thousands=style.thousands, trim=False)
        return f"R$ {text}" if style.money_prefix else text
    if kind == "int":
        return number_text(value, decimal, digits=0, thousands=style.thousands)
    text = number_text(columns.in_column_unit(header, value), decimal, thousands=style.thousands)
    if not style.unit_suffixes:
        return text
    if field == "power_w" and product.category == "module":
        return f"{text}Wp"
    suffix = _SUFFIXES[kind] if style.language == "pt" or kind != "days" else " days"
    return f"{text}{suffix}"
