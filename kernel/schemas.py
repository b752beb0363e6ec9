"""Canonical records shared by the catalog pipeline, the embedding job and the search API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

Category = Literal[
    "module",
    "inverter",
    "microinverter",
    "hybrid_inverter",
    "battery",
    "charge_controller",
    "kit",
    "structure",
    "string_box",
    "cable",
    "connector",
]
CATEGORIES: tuple[str, ...] = get_args(Category)

CATALOG_COLLECTION = "helio-catalog"
PRICING_COLLECTION = "helio-pricing"
REGULATORY_COLLECTION = "helio-regulatory"
TECHNICAL_COLLECTION = "helio-technical"
SALES_COLLECTION = "helio-sales"
# The three fed from documents; a corpus folder holds one subfolder per collection, named without "helio-".
DOCUMENT_COLLECTIONS = (REGULATORY_COLLECTION, TECHNICAL_COLLECTION, SALES_COLLECTION)
KNOWLEDGE_COLLECTIONS = (CATALOG_COLLECTION, PRICING_COLLECTION, *DOCUMENT_COLLECTIONS)
LEXICAL_VECTOR = "lexical"


class FeedRecord(BaseModel):
    """One accepted feed row, normalised: the product as this distributor describes it, plus its offer.

    `specs` uses canonical keys and SI-ish units: power_w (module Pmax, inverter AC power, kit DC power),
    voc_v, isc_a, vmp_v, imp_a, temp_coeff_voc_pct_per_c, efficiency_pct, max_dc_voltage_v, mppt_low_v,
    mppt_high_v, mppt_count, max_dc_current_a, max_dc_power_w, ac_voltage_v, phases, capacity_kwh,
    voltage_v, chemistry, technology (module cells), roof_type, section_mm2, length_m, string_inputs,
    components (kits: list of {category, brand, model, quantity}).
    """

    distributor: str
    sku: str
    category: Category
    brand: str
    model: str
    title: str
    specs: dict[str, Any] = Field(default_factory=dict)
    price_brl: float | None = Field(default=None, ge=0)
    stock: int = Field(default=0, ge=0)
    lead_time_days: int = Field(default=0, ge=0)
    source_file: str
    line: int


class RejectedRow(BaseModel):
    """A feed row (or a whole file, line 0) that could not be loaded, kept with its reason."""

    distributor: str
    source_file: str
    line: int
    raw: str
    reason: str


class Product(BaseModel):
    id: str = Field(description="Stable id: uuid5 of the normalised brand + model.")
    category: Category
    brand: str
    model: str
    title: str
    specs: dict[str, Any] = Field(default_factory=dict)


class Offer(BaseModel):
    product_id: str
    distributor: str
    sku: str
    price_brl: float | None
    stock: int
    lead_time_days: int
    updated_at: datetime | None = None
