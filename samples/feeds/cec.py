"""Real module and inverter specs from the CEC tables shipped inside the `pvlib` package (pvlib/data).

Each CEC file has a units row and a SAM-keys row under its header. Module names run the manufacturer
into the model ("Canadian Solar Inc. CS6K-300MS"): the model starts at the first word holding a digit.
Inverter names are "Manufacturer: Model [208V]"; the bracketed grid voltage is one more variant of the
same model, so only the first listing of a model is kept.
"""

from __future__ import annotations

import csv
import importlib.util
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from catalog.identity import model_key, normalize_brand, normalize_model
from samples.feeds.market import Market, SpecItem

MODULES_FILE = "sam-library-cec-modules-2019-03-05.csv"
INVERTERS_FILE = "sam-library-cec-inverters-2019-03-05.csv"
TECHNOLOGY = {"Mono-c-Si": "mono-c-si", "Multi-c-Si": "multi-c-si", "Thin Film": "thin-film", "CdTe": "cdte"}
_GRID_SUFFIX = re.compile(r"\s*\[[^\]]*\]\s*$")
_MODULE_NAME = re.compile(r"(\S+(?:\s+[^\s\d]+)*)\s+(\S*\d.*)")


def _rows(filename: str) -> Iterator[dict[str, str]]:
    spec = importlib.util.find_spec("pvlib")  # locate the data without importing pvlib (slow, pulls scipy)
    if spec is None or spec.origin is None:
        raise RuntimeError("the pvlib package is not installed; its CEC tables feed the sample modules")
    with (Path(spec.origin).parent / "data" / filename).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        next(reader), next(reader)  # units row, SAM keys row
        yield from reader


def _split_module_name(name: str) -> tuple[str, str]:
    """(manufacturer, model): the model starts at the first word, after the first, that holds a digit."""
    split = _MODULE_NAME.match(name)
    if split is None:
        manufacturer, _, model = name.partition(" ")
        return manufacturer, model
    return split.group(1), split.group(2)


def cec_modules(market: Market, aliases: Mapping[str, str]) -> list[SpecItem]:
    """Modules of the brands the sample sells (market.module_brands), one per normalised model."""
    wanted, seen, items = set(market.module_brands), set(), []
    brands: dict[str, str] = {}  # a manufacturer's spelling -> brand; thousands of rows share each
    for row in _rows(MODULES_FILE):
        manufacturer, raw_model = _split_module_name(row["Name"])
        if manufacturer not in brands:
            brands[manufacturer] = normalize_brand(manufacturer, aliases)
        brand = brands[manufacturer]
        if brand not in wanted or row["Technology"] not in TECHNOLOGY:
            continue
        model = normalize_model(raw_model)
        if not model or (brand, model_key(model)) in seen:
            continue
        seen.add((brand, model_key(model)))
        pmax, voc, area = float(row["STC"]), float(row["V_oc_ref"]), float(row["A_c"])
        specs = {
            "power_w": float(round(pmax)),
            "voc_v": round(voc, 2),
            "isc_a": round(float(row["I_sc_ref"]), 2),
            "vmp_v": round(float(row["V_mp_ref"]), 2),
            "imp_a": round(float(row["I_mp_ref"]), 2),
            "temp_coeff_voc_pct_per_c": round(float(row["beta_oc"]) / voc * 100, 3),
            "efficiency_pct": round(pmax / (area * 1000) * 100, 1),
            "technology": TECHNOLOGY[row["Technology"]],
        }
        items.append(SpecItem(brand, model, specs))
    return items


def _grid(market: Market, cec_vac: float) -> tuple[int, int]:
    nearest = min(market.brazil_grid, key=lambda vac: (abs(vac - cec_vac), vac))
    return market.brazil_grid[nearest]


def _mppt_count(market: Market, power_w: float) -> int:
    return next((count for limit, count in market.mppt_count_by_power_w if power_w <= limit), 1)


def cec_inverters(market: Market, aliases: Mapping[str, str]) -> tuple[list[SpecItem], list[SpecItem]]:
    """(string inverters, microinverters), one per normalised model, on a Brazilian grid voltage."""
    seen: set[tuple[str, str]] = set()
    strings: list[SpecItem] = []
    micros: list[SpecItem] = []
    low, high = market.inverter_power_w
    for row in _rows(INVERTERS_FILE):
        manufacturer, _, raw_model = _GRID_SUFFIX.sub("", row["Name"]).partition(":")
        brand, model = normalize_brand(manufacturer, aliases), normalize_model(raw_model)
        try:
            vac, paco, pdco = float(row["Vac"]), float(row["Paco"]), float(row["Pdco"])
            vdcmax, idcmax = float(row["Vdcmax"]), float(row["Idcmax"])
            mppt_low, mppt_high = float(row["Mppt_low"]), float(row["Mppt_high"])
        except ValueError:  # a few rows hold ranges such as "422-528"
            continue
        is_micro = paco <= market.microinverter_max_w
        if not model or vac <= 0 or not 0 < mppt_low < mppt_high or (brand, model_key(model)) in seen:
            continue
        if not (is_micro or low <= paco <= high):
            continue
        seen.add((brand, model_key(model)))
        mppts = 1 if is_micro else _mppt_count(market, paco)
        ac_voltage, phases = _grid(market, vac)
        specs = {
            "power_w": float(round(paco)),
            "max_dc_power_w": float(round(pdco)),
            "max_dc_voltage_v": round(vdcmax, 1),
            "mppt_low_v": round(mppt_low, 1),
            "mppt_high_v": round(mppt_high, 1),
            "mppt_count": mppts,
            "max_dc_current_a": round(idcmax / mppts, 1),
            "ac_voltage_v": float(ac_voltage),
            "phases": phases,
        }
        (micros if is_micro else strings).append(SpecItem(brand, model, specs))
    return strings, micros
