"""Today's modules and string inverters (`current.yaml`), which the 2019 CEC tables predate.

Their specs carry the keys and units of the CEC ones (samples.feeds.cec), so feeds write and the ETL reads
them alike. Two keys are not canonical and only shape titles: a module's `cell` type and `bifacial`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from samples.feeds.market import Market, Range, SpecItem
from samples.feeds.variants import at_power


class ModuleFormat(BaseModel):
    up_to_w: float  # the format's highest power class
    dimensions_mm: tuple[float, float]
    specs: dict[str, float]  # power_w, voc_v, isc_a, vmp_v, imp_a at one class of the format


class ModuleLine(BaseModel):
    brand: str
    model: str  # "{w}": the power class in W
    cell: str
    bifacial: bool
    power_w: tuple[int, int]  # lowest and highest class


class InverterLine(BaseModel):
    brand: str
    model: str  # "{kw}" / "{w}": the AC power in kW / W
    phases: int
    power_kw: dict[float, int]  # class -> MPPTs
    max_dc_voltage_v: float
    mppt_v: Range
    mppt_current_a: float
    dc_ratio: float


class CurrentMarket(BaseModel):
    share: dict[str, float]  # category -> share of its products drawn from these lines
    prices: dict[str, Range]
    module_formats: list[ModuleFormat]
    cells: dict[str, float]  # cell type -> temperature coefficient of Voc, %/°C
    modules: list[ModuleLine]
    grid: dict[int, float]  # phases -> AC volts
    inverters: list[InverterLine]

    def price_range(self, name: str) -> Range:
        return self.prices[name]


@lru_cache(maxsize=1)
def load_current() -> CurrentMarket:
    text = (Path(__file__).parent / "current.yaml").read_text("utf-8")
    return CurrentMarket.model_validate(yaml.safe_load(text))


def _module_specs(current: CurrentMarket, market: Market, line: ModuleLine, power_w: float) -> dict[str, Any]:
    form = next(f for f in sorted(current.module_formats, key=lambda f: f.up_to_w) if power_w <= f.up_to_w)
    length_mm, width_mm = form.dimensions_mm
    reference = {
        **form.specs,
        "efficiency_pct": round(form.specs["power_w"] / (length_mm * width_mm / 1e6 * 1000) * 100, 1),
    }
    return {
        **at_power(reference, market.variants.power_classes["module"].follow, power_w),
        "temp_coeff_voc_pct_per_c": current.cells[line.cell],
        "technology": "mono-c-si",  # TOPCon, HJT and BC cells are all monocrystalline silicon
        "cell": line.cell,
        "bifacial": line.bifacial,
    }


def current_modules(current: CurrentMarket, market: Market) -> list[SpecItem]:
    """Every power class of every module line."""
    step = round(market.variants.power_classes["module"].unit)
    return [
        SpecItem(line.brand, line.model.format(w=watts), _module_specs(current, market, line, float(watts)))
        for line in current.modules
        for watts in range(line.power_w[0], line.power_w[1] + 1, step)
    ]


def current_inverters(current: CurrentMarket) -> list[SpecItem]:
    """Every power class of every string inverter line."""
    items = []
    for line in current.inverters:
        for kw, mppts in line.power_kw.items():
            specs = {
                "power_w": float(round(kw * 1000)),
                "max_dc_power_w": float(round(kw * 1000 * line.dc_ratio)),
                "max_dc_voltage_v": line.max_dc_voltage_v,
                "mppt_low_v": line.mppt_v[0],
                "mppt_high_v": line.mppt_v[1],
                "mppt_count": mppts,
                "max_dc_current_a": line.mppt_current_a,
                "ac_voltage_v": current.grid[line.phases],
                "phases": line.phases,
            }
            items.append(SpecItem(line.brand, line.model.format(kw=kw, w=round(kw * 1000)), specs))
    return items
