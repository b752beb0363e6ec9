"""The five sample distributors: how each names SKUs, splits its files, writes values and goes wrong.

Their layouts (headers, labels, units, format, encoding) are their entries in catalog/feeds.yaml.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from catalog.feeds import DistributorFeed
from samples.feeds.market import SampleOffer, SampleProduct
from samples.feeds.render import Columns, Style, cell, title

Row = dict[str, Any]


@dataclass(frozen=True)
class Distributor:
    name: str
    style: Style
    defects: tuple[str, ...]  # defect kinds this feed shows, see samples.feeds.defects
    sku: Callable[[int, SampleProduct], str]
    file_for: Callable[[SampleProduct], str]
    # Which column a field goes to when the layout has several for it (field, headers, product).
    column_for: Callable[[str, list[str], SampleProduct], str] = lambda _field, headers, _product: headers[0]


def _category_code(product: SampleProduct) -> str:
    return "".join(word[0] for word in product.category.split("_")).upper()


def _brightline_column(field: str, headers: list[str], product: SampleProduct) -> str:
    """Panels state Pmax, kits DC kWp, everything else AC watts: three keys for one canonical power_w."""
    if field != "power_w":
        return headers[0]
    return {"module": headers[0], "kit": headers[2]}.get(product.category, headers[1])


DISTRIBUTORS = (
    Distributor(
        name="solar_nordeste",
        style=Style("pt", unit_suffixes=True, money_prefix=True, thousands=True),
        defects=("bad_number", "unknown_unit", "missing_brand", "mojibake", "column_count", "duplicate"),
        sku=lambda n, _product: f"SN{n:06d}",
        file_for=lambda _product: "solar_nordeste/catalogo_produtos.csv",
    ),
    Distributor(
        name="greenvolt",
        style=Style("en"),
        defects=("bad_number", "unknown_unit", "missing_brand", "invalid_bytes", "column_count", "duplicate"),
        sku=lambda n, product: f"GV-{_category_code(product)}-{n:05d}",
        file_for=lambda product: f"greenvolt/{'panels' if product.category == 'module' else 'equipment'}.csv",
    ),
    Distributor(
        name="atlas_energia",
        style=Style("pt", native_numbers=True),
        defects=("bad_number", "unknown_unit", "missing_brand", "mojibake", "column_count", "duplicate"),
        sku=lambda n, _product: str(700000 + n),
        file_for=lambda _product: "atlas_energia/tabela_precos.xlsx",
    ),
    Distributor(
        name="brightline",
        style=Style("en", native_numbers=True),
        defects=("bad_number", "unknown_unit", "missing_brand", "invalid_bytes", "bad_json", "duplicate"),
        sku=lambda n, product: f"bl-{product.category.replace('_', '-')}-{n:05d}",
        file_for=lambda product: f"brightline/{'kits' if product.category == 'kit' else 'products'}.jsonl",
        column_for=_brightline_column,
    ),
    Distributor(
        name="kit_center",
        style=Style("pt", money_prefix=True, thousands=True),
        defects=("bad_number", "unknown_unit", "missing_brand", "invalid_bytes", "column_count", "duplicate"),
        sku=lambda n, _product: f"KC-GF-{n:05d}",
        file_for=lambda _product: "kit_center/geradores.csv",
    ),
)


def offer_rows(
    distributor: Distributor, feed: DistributorFeed, columns: Columns, offer: SampleOffer
) -> list[Row]:
    """The row(s) of one listing: one row, or a kit line followed by its component lines."""
    product, style = offer.product, distributor.style
    values: dict[str, Any] = {
        "sku": int(offer.sku) if style.native_numbers and offer.sku.isdigit() else offer.sku,
        "title": title(offer, style.language, feed.decimal),
        "category": product.category,
        "brand": offer.brand_text,
        "model": offer.model_text,
        "price_brl": offer.price,
        "stock": offer.stock,
        "lead_time_days": offer.lead_time_days,
        **product.specs,
    }
    row: Row = {}
    for field, headers in columns.headers.items():
        if field in values:
            header = distributor.column_for(field, headers, product)
            row[header] = cell(columns, style, header, field, values[field], product)
    if feed.kits is None or product.category != "kit":
        return [row]
    header_of = {field: header for header, field in feed.kits.component_columns.items()}
    components = [
        {
            header_of["category"]: columns.category_label(part.category),
            header_of["brand"]: part.brand,
            header_of["model"]: part.model,
            header_of["quantity"]: quantity if style.native_numbers else str(quantity),
        }
        for part, quantity in product.components
    ]
    if feed.kits.layout == "nested":
        return [{**row, feed.kits.components_field or "": components}]
    row_type = feed.kits.row_type_column or ""
    return [{row_type: feed.kits.kit_row, **row}] + [
        {row_type: feed.kits.component_row, **c} for c in components
    ]
