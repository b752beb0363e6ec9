"""One feed file → normalised `FeedRecord`s and `RejectedRow`s. The ETL job calls `parse_feed_file`.

Reading (bytes → raw rows, per format) lives in `catalog.feed_readers`; this module maps raw rows to
canonical fields with the distributor's layout, normalises brand and model, checks what each category
needs and refuses repeated SKUs. Every refusal says why, and nothing raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from pydantic import ValidationError

from catalog.feed_readers import FeedFileError, RawRow, RejectCode, header_key, is_blank, read_rows
from catalog.feeds import RECORD_FIELDS, SPEC_FIELDS, DistributorFeed
from catalog.identity import normalize_brand, normalize_model
from catalog.units import (
    Dimension,
    UnknownUnitError,
    parse_int,
    parse_measure,
    parse_money_brl,
    parse_phases,
)
from kernel.schemas import Category, FeedRecord, RejectedRow
from kernel.text import fold

# What downstream needs to use a product at all: sizing, DC/AC ratio, phase match, storage.
REQUIRED_SPECS = {
    "module": ("power_w",),
    "inverter": ("power_w", "phases", "ac_voltage_v"),
    "microinverter": ("power_w", "phases", "ac_voltage_v"),
    "hybrid_inverter": ("power_w", "phases", "ac_voltage_v"),
    "battery": ("capacity_kwh",),
    "kit": ("power_w",),
}


class RowError(Exception):
    def __init__(self, code: RejectCode, detail: str) -> None:
        super().__init__(f"{code}: {detail}")


@lru_cache(maxsize=4096)  # a feed repeats a handful of labels thousands of times
def _label_key(label: object) -> str:
    return fold(str(label))


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():  # XLSX stores codes like 700123 as numbers
        value = int(value)
    text = " ".join(str(value).split())
    if "\x00" in text:  # Postgres text cannot hold it: the whole catalog write would fail
        raise RowError(RejectCode.BAD_VALUE, f"NUL character in {text!r}")
    return text


@dataclass(frozen=True)
class _Layout:
    """The feed's config turned into lookups keyed the way raw rows are."""

    feed: DistributorFeed
    sources: dict[str, list[tuple[str, str, str | None]]]  # field -> [(header key, header, unit)]
    categories: dict[str, str]
    value_maps: dict[str, dict[str, str]]
    component_columns: dict[str, str]  # component field -> header key

    @classmethod
    def of(cls, feed: DistributorFeed) -> _Layout:
        sources: dict[str, list[tuple[str, str, str | None]]] = {}
        for column, field in feed.columns.items():
            sources.setdefault(field, []).append((header_key(column), column, feed.units.get(column)))
        maps = {
            field: {_label_key(k): v for k, v in labels.items()} for field, labels in feed.value_maps.items()
        }
        components = feed.kits.component_columns if feed.kits else {}
        return cls(
            feed=feed,
            sources=sources,
            categories={_label_key(label): category for label, category in feed.categories.items()},
            value_maps=maps,
            component_columns={field: header_key(column) for column, field in components.items()},
        )

    def convert(self, field: str, value: object, unit: str | None) -> Any:
        kind = RECORD_FIELDS.get(field) or SPEC_FIELDS[field]
        decimal = self.feed.decimal
        if kind == "text":
            text = _text(value)
            if field not in self.value_maps:
                return text
            if _label_key(text) not in self.value_maps[field]:
                raise RowError(RejectCode.BAD_VALUE, f"unknown {field} {text!r}")
            return self.value_maps[field][_label_key(text)]
        if kind == "category":
            return self.category(value)
        if kind == "money":
            return parse_money_brl(value, decimal)
        if kind == "int":
            return parse_int(value, decimal)
        if kind == "phases":
            return parse_phases(value)
        measure = parse_measure(value, cast(Dimension, kind), default_unit=unit, decimal=decimal)
        return int(measure) if kind == "days" and measure.is_integer() else measure

    def category(self, label: object) -> str:
        # _text first: a JSON feed may put a list or an object here, which the label cache cannot key.
        category = self.categories.get(_label_key(_text(label)))
        if category is None:
            raise RowError(RejectCode.UNKNOWN_CATEGORY, f"unknown category {_text(label)!r}")
        return category

    def fields(self, values: dict[str, object]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for field, sources in self.sources.items():
            for key, column, unit in sources:
                value = values.get(key)
                if is_blank(value):
                    continue
                try:
                    found[field] = self.convert(field, value, unit)
                except UnknownUnitError as error:
                    raise RowError(RejectCode.UNKNOWN_UNIT, f"{field} (column {column!r}): {error}") from None
                except ValueError as error:
                    raise RowError(RejectCode.BAD_VALUE, f"{field} (column {column!r}): {error}") from None
                break
        return found

    def component(self, values: dict[str, object], where: str) -> dict[str, Any]:
        raw = {field: values.get(key) for field, key in self.component_columns.items()}
        for field in ("category", "brand", "model", "quantity"):
            if is_blank(raw[field]):
                raise RowError(RejectCode.MISSING_FIELD, f"{where}: component without {field}")
        category = self.category(raw["category"])
        try:
            quantity = parse_int(raw["quantity"], self.feed.decimal)
        except ValueError as error:
            raise RowError(RejectCode.BAD_VALUE, f"{where}: quantity: {error}") from None
        if category == "kit" or quantity < 1:
            raise RowError(RejectCode.BAD_VALUE, f"{where}: a kit cannot hold {quantity} × {category}")
        return {
            "category": category,
            "brand": normalize_brand(_text(raw["brand"]), self.feed.brand_aliases),
            "model": normalize_model(_text(raw["model"])),
            "quantity": quantity,
        }


def _record(layout: _Layout, head: RawRow, component_rows: Sequence[RawRow], source_file: str) -> FeedRecord:
    fields = layout.fields(head.values)
    kit_lines = layout.feed.kits is not None and layout.feed.kits.layout == "header_then_components"
    category = "kit" if kit_lines else fields.pop("category", None)
    identity = {
        "sku": fields.get("sku"),
        "category": category,
        "brand": fields.get("brand"),
        "model": fields.get("model"),
    }
    if missing := [name for name, value in identity.items() if not value]:
        raise RowError(RejectCode.MISSING_FIELD, f"no {' and no '.join(missing)}")
    brand = normalize_brand(fields["brand"], layout.feed.brand_aliases)
    model = normalize_model(fields["model"])
    if not model:
        raise RowError(RejectCode.MISSING_FIELD, f"no model in {fields['model']!r}")
    specs = {name: value for name, value in fields.items() if name in SPEC_FIELDS}
    if category == "kit":
        specs["components"] = _components(layout, head, component_rows)
    if missing := [name for name in REQUIRED_SPECS.get(str(category), ()) if name not in specs]:
        raise RowError(RejectCode.MISSING_SPEC, f"a {category} needs {', '.join(missing)}")
    try:
        return FeedRecord(
            distributor=layout.feed.name,
            sku=fields["sku"],
            category=cast(Category, category),
            brand=brand,
            model=model,
            title=fields.get("title") or f"{brand} {model}",
            specs=specs,
            price_brl=fields.get("price_brl"),
            stock=fields.get("stock", 0),
            lead_time_days=fields.get("lead_time_days", 0),
            source_file=source_file,
            line=head.line,
        )
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise RowError(RejectCode.BAD_VALUE, f"{where}: {first['msg']}") from None


def _components(layout: _Layout, head: RawRow, component_rows: Sequence[RawRow]) -> list[dict[str, Any]]:
    if layout.feed.kits is None:
        raise RowError(RejectCode.KIT_STRUCTURE, "this feed's layout has no kits")
    if layout.feed.kits.layout == "header_then_components":
        components = [layout.component(row.values, f"component line {row.line}") for row in component_rows]
    else:
        listed = head.values.get(header_key(layout.feed.kits.components_field or ""))
        if not isinstance(listed, list) or not all(isinstance(item, dict) for item in listed):
            raise RowError(RejectCode.KIT_STRUCTURE, "components are not a list of objects")
        components = [
            layout.component({header_key(k): v for k, v in item.items()}, f"component {position}")
            for position, item in enumerate(listed, start=1)
        ]
    if not components:
        raise RowError(RejectCode.KIT_STRUCTURE, "kit without components")
    return components


def _kit_groups(layout: _Layout, rows: Iterable[RawRow]) -> Iterator[tuple[RawRow, list[RawRow]]]:
    """Kit line + the component lines under it. Component lines before any kit line come alone."""
    kits = layout.feed.kits
    assert kits is not None and kits.row_type_column is not None
    type_key, component_type = header_key(kits.row_type_column), _label_key(kits.component_row)
    group: tuple[RawRow, list[RawRow]] | None = None
    for row in rows:
        if _label_key(row.values.get(type_key) or "") == component_type:
            if group is None:
                yield row, []
            else:
                group[1].append(row)
            continue
        if group is not None:
            yield group
        group = (row, [])
    if group is not None:
        yield group


def _check_group(layout: _Layout, head: RawRow, components: list[RawRow]) -> None:
    for row in (head, *components):
        if row.problem:
            raise RowError(
                row.problem[0], row.problem[1] if row is head else f"line {row.line}: {row.problem[1]}"
            )
    kits = layout.feed.kits
    if kits is None or kits.layout != "header_then_components":
        return
    row_type = _label_key(head.values.get(header_key(kits.row_type_column or "")) or "")
    if row_type == _label_key(kits.component_row):
        raise RowError(RejectCode.KIT_STRUCTURE, "component line without a kit line before it")
    if row_type != _label_key(kits.kit_row):
        raise RowError(RejectCode.BAD_VALUE, f"unknown row type {row_type!r}")


def parse_feed_file(
    feed: DistributorFeed, source_file: str, data: bytes
) -> Iterator[FeedRecord | RejectedRow]:
    """Every row of one feed file, accepted or rejected (with a reason); an unreadable file is one
    RejectedRow with line 0. Within the file, a repeated SKU keeps its first accepted row."""
    try:
        rows = read_rows(feed, data)
    except FeedFileError as error:
        yield RejectedRow(
            distributor=feed.name,
            source_file=source_file,
            line=0,
            raw=f"<{len(data)} bytes>",
            reason=str(error),
        )
        return
    layout = _Layout.of(feed)
    kit_lines = feed.kits is not None and feed.kits.layout == "header_then_components"
    groups = _kit_groups(layout, rows) if kit_lines else ((row, []) for row in rows)
    first_line_of_sku: dict[str, int] = {}
    for head, components in groups:
        try:
            _check_group(layout, head, components)
            record = _record(layout, head, components, source_file)
            if record.sku in first_line_of_sku:
                raise RowError(
                    RejectCode.DUPLICATE,
                    f"sku {record.sku!r} already loaded from line {first_line_of_sku[record.sku]}",
                )
        except RowError as error:
            raw = "\n".join(row.raw for row in (head, *components))
            yield RejectedRow(
                distributor=feed.name, source_file=source_file, line=head.line, raw=raw, reason=str(error)
            )
            continue
        first_line_of_sku[record.sku] = record.line
        yield record
