"""Distributor feed layouts, as typed config loaded from `catalog/feeds.yaml`.

A layout says where a distributor's files are, how to read them (format, encoding, delimiter, decimal
style), which header means which canonical field, the unit of bare numbers, how its category labels
map to ours and how its kits list their components. Adding a distributor is adding an entry there.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

from catalog.identity import brand_alias_index
from catalog.units import UNITS
from kernel.numbers import DecimalStyle
from kernel.schemas import Category

FEEDS_FILE = Path(__file__).with_name("feeds.yaml")  # the layouts of the platform's distributors

# The kind of value each canonical field holds; a kind named after a unit dimension takes units.
RECORD_FIELDS = {
    "sku": "text",
    "category": "category",
    "brand": "text",
    "model": "text",
    "title": "text",
    "price_brl": "money",
    "stock": "int",
    "lead_time_days": "days",
}
SPEC_FIELDS = {
    **dict.fromkeys(("power_w", "max_dc_power_w"), "power"),
    **dict.fromkeys(
        ("voc_v", "vmp_v", "max_dc_voltage_v", "mppt_low_v", "mppt_high_v", "ac_voltage_v", "voltage_v"),
        "voltage",
    ),
    **dict.fromkeys(("isc_a", "imp_a", "max_dc_current_a"), "current"),
    "temp_coeff_voc_pct_per_c": "temp_coeff",
    "efficiency_pct": "percent",
    "capacity_kwh": "energy",
    "section_mm2": "section",
    "length_m": "length",
    **dict.fromkeys(("mppt_count", "string_inputs"), "int"),
    "phases": "phases",
    **dict.fromkeys(("chemistry", "roof_type", "technology"), "text"),
}
ComponentField = Literal["category", "brand", "model", "quantity"]


class KitLayout(BaseModel):
    """How a feed lists the components of its kits."""

    layout: Literal["header_then_components", "nested"] = Field(
        description="header_then_components: a kit line followed by its component lines; "
        "nested: one row per kit holding a list of component objects."
    )
    row_type_column: str | None = Field(
        default=None, description="Column telling kit lines from component lines."
    )
    kit_row: str = Field(default="KIT", description="Value of row_type_column on a kit line.")
    component_row: str = Field(default="ITEM", description="Value of row_type_column on a component line.")
    components_field: str | None = Field(default=None, description="Key of the component list (nested).")
    component_columns: dict[str, ComponentField] = Field(description="Column or key → component field.")

    @model_validator(mode="after")
    def _complete_for_its_layout(self) -> KitLayout:
        needed = "row_type_column" if self.layout == "header_then_components" else "components_field"
        if getattr(self, needed) is None:
            raise ValueError(f"kits with layout {self.layout} need {needed}")
        missing = set(get_args(ComponentField)) - set(self.component_columns.values())
        if missing:
            raise ValueError(f"component_columns lacks {sorted(missing)}")
        return self


class DistributorFeed(BaseModel):
    name: str = Field(description="Distributor id, as stored with every offer and reject.")
    files: list[str] = Field(
        description="Globs relative to the feeds root (`*` stays in one folder, `**` spans)."
    )
    format: Literal["csv", "xlsx", "jsonl"]
    encoding: str = Field(default="utf-8", description="Text encoding (csv, jsonl).")
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    decimal: DecimalStyle = Field(
        default="dot",
        description="comma: `1.234,56`; dot: `1,234.56`; either: a comma is the decimal mark, "
        "else dots grouping three digits are thousands.",
    )
    sheet: str | None = Field(default=None, description="XLSX sheet name; the first sheet when unset.")
    columns: dict[str, str] = Field(description="Header (case-insensitive; dotted path in JSON) → field.")
    units: dict[str, str] = Field(
        default_factory=dict, description="Column → unit of its numbers written bare."
    )
    categories: dict[str, Category] = Field(
        description="Category label (case/accent-insensitive) → category."
    )
    value_maps: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Text spec field → {label: canonical value}; other labels are refused.",
    )
    kits: KitLayout | None = None
    brand_aliases: dict[str, str] = Field(
        default_factory=dict, description="Brand key → canonical brand; `load_feeds` fills it from `brands`."
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str) -> str:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {encoding!r}") from None
        return encoding

    @model_validator(mode="after")
    def _fields_exist(self) -> DistributorFeed:
        known = RECORD_FIELDS | SPEC_FIELDS
        unknown = sorted(set(self.columns.values()) - set(known))
        if unknown:
            raise ValueError(f"{self.name}: unknown canonical fields {unknown}")
        kit_lines_only = self.kits is not None and self.kits.layout == "header_then_components"
        required = {"sku", "brand", "model"} | (set() if kit_lines_only else {"category"})
        if missing := sorted(required - set(self.columns.values())):
            raise ValueError(f"{self.name}: no column maps to {missing}")
        for column, unit in self.units.items():
            dimension = known.get(self.columns.get(column, ""))
            if dimension not in UNITS or unit.casefold() not in UNITS[dimension]:
                raise ValueError(f"{self.name}: unit {unit!r} does not fit column {column!r}")
        if bad := sorted(f for f in self.value_maps if SPEC_FIELDS.get(f) != "text"):
            raise ValueError(f"{self.name}: value_maps only apply to text spec fields, not {bad}")
        return self


class FeedsFile(BaseModel):
    brands: dict[str, list[str]] = Field(default_factory=dict, description="Canonical brand → other names.")
    feeds: list[DistributorFeed]

    @model_validator(mode="after")
    def _unique_names(self) -> FeedsFile:
        names = [feed.name for feed in self.feeds]
        if len(set(names)) != len(names):
            raise ValueError(f"distributor names repeat: {names}")
        return self


def load_feeds_file(path: Path | str) -> FeedsFile:
    return FeedsFile.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def load_feeds(path: Path | str) -> list[DistributorFeed]:
    """Every distributor layout in the YAML file, each carrying the shared brand aliases."""
    document = load_feeds_file(path)
    aliases = brand_alias_index(document.brands)
    return [feed.model_copy(update={"brand_aliases": aliases}) for feed in document.feeds]


def _glob_regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*/|\*|\?)", pattern)
    wildcard = {"**/": "(?:.*/)?", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcard.get(part, re.escape(part)) for part in parts))


def files_for(feed: DistributorFeed, paths: Iterable[str]) -> list[str]:
    """The paths (relative to the feeds root, `/`-separated) that match one of the feed's globs, sorted."""
    patterns = [_glob_regex(glob) for glob in feed.files]
    return sorted(path for path in paths if any(p.fullmatch(path) for p in patterns))
