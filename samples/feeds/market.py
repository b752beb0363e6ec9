"""The market the sample imitates (`market.yaml`), and the product and offer records of the generator."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from kernel.schemas import Category

Range = tuple[float, float]


class HybridFamily(BaseModel):
    brands: dict[str, str]
    power_kw: list[float]
    battery_voltage_v: list[float]
    low_voltage_max_kw: float  # 48 V battery models stop here; above it only high-voltage ones are made
    generation: list[str]


class BatteryFamily(BaseModel):
    lithium: dict[str, str]
    lithium_kwh: list[float]
    lithium_voltage_v: list[float]
    variants: list[str]
    lead_acid: dict[str, str]
    lead_acid_ah: list[int]


class ChargeControllerFamily(BaseModel):
    brands: dict[str, str]
    types: list[str]
    current_a: list[int]
    system_voltage_v: list[int]
    max_pv_voltage_v: list[int]


class StructureFamily(BaseModel):
    brands: dict[str, str]
    roof_types: dict[str, str]
    modules: list[int]
    orientation: list[str]
    material: list[str]


class StringBoxFamily(BaseModel):
    brands: dict[str, str]
    inputs: list[int]
    outputs: list[int]
    max_voltage_v: list[int]
    current_a: list[int]


class CableFamily(BaseModel):
    brands: dict[str, str]
    section_mm2: list[float]
    colors: dict[str, str]
    length_m: list[int]
    voltage_kv: list[float]


class ConnectorFamily(BaseModel):
    brands: dict[str, str]
    types: dict[str, str]
    section_mm2: list[str]
    max_voltage_v: list[int]


class KitFamily(BaseModel):
    brands: dict[str, str]
    modules: list[int]
    module_min_w: float
    dc_ac_ratio: Range
    modules_per_string: int
    cable_length_m: list[int]


class Families(BaseModel):
    hybrid_inverter: HybridFamily
    battery: BatteryFamily
    charge_controller: ChargeControllerFamily
    structure: StructureFamily
    string_box: StringBoxFamily
    cable: CableFamily
    connector: ConnectorFamily
    kit: KitFamily


class PowerClasses(BaseModel):
    """How a category's products step to another power class, and which specs follow the power."""

    step: float  # a class step as a share of the listed power, rounded to `unit` (at least one unit)
    unit: float  # W
    follow: dict[str, float]  # spec -> exponent of the power ratio it scales by


class Variants(BaseModel):
    classes_each_side: int
    series_code: str  # "{n}": the series number, 2 and up
    price_jitter: float
    power_classes: dict[Category, PowerClasses]


class Market(BaseModel):
    default_products: int
    category_shares: dict[Category, float]
    sellers: dict[Category, list[str]]
    second_seller_rate: float
    third_seller_rate: float
    defect_rate: float
    price_spread: float
    in_stock_rate: float
    stock_max: int
    lead_time_days_max: int
    prices: dict[str, Range | dict[str, Range]]
    brazil_grid: dict[int, tuple[int, int]]
    inverter_power_w: Range
    microinverter_max_w: float
    mppt_count_by_power_w: list[tuple[float, int]]
    module_brands: list[str]
    families: Families
    variants: Variants

    def price_range(self, name: str, kind: str | None = None) -> Range:
        """[low, high] BRL of a price entry; `kind` picks one of a split entry (battery chemistry, …)."""
        entry = self.prices[name]
        return entry[kind or ""] if isinstance(entry, dict) else entry


@lru_cache(maxsize=1)
def load_market() -> Market:
    return Market.model_validate(yaml.safe_load((Path(__file__).parent / "market.yaml").read_text("utf-8")))


@dataclass(frozen=True)
class SpecItem:
    """A real model before it is priced: brand, model and canonical specs (from the CEC tables or today's
    product lines)."""

    brand: str
    model: str
    specs: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SampleProduct:
    """One physical product as the generator knows it: canonical brand and model, canonical specs."""

    category: Category
    brand: str
    model: str
    specs: dict[str, Any]
    reference_price: float
    components: tuple[tuple[SampleProduct, int], ...] = ()


@dataclass(slots=True)
class SampleOffer:
    """One distributor's listing of a product, with that distributor's spelling of brand and model."""

    product: SampleProduct
    distributor: str
    sku: str
    price: float
    stock: int
    lead_time_days: int
    brand_text: str
    model_text: str
