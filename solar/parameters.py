"""Every approximate number of the solar domain, in one typed object read from `solar/data/`.

`load_parameters()` reads the shipped files; `load_parameters(overrides={...})` deep-merges a partial
mapping over them before validation, so a deployment or a request changes a value without a code edit.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

DATA_DIR = Path(__file__).resolve().parent / "data"
ConnectionKind = Literal["mono", "bi", "tri"]
UFS = (
    "AC", "AL", "AM", "AP", "BA", "CE", "DF", "ES", "GO", "MA", "MG", "MS", "MT", "PA",
    "PB", "PE", "PI", "PR", "RJ", "RN", "RO", "RR", "RS", "SC", "SE", "SP", "TO",
)  # fmt: skip


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SizingParameters(_Frozen):
    performance_ratio: float = Field(gt=0, le=1, description="PR: share of the STC energy delivered.")
    days_per_month: float = Field(gt=0, description="Days in the E_month = kWp × HSP × days × PR rule.")
    minimum_bill_kwh: dict[ConnectionKind, float] = Field(description="Custo de disponibilidade, kWh.")


class ElectricalParameters(_Frozen):
    dc_ac_ratio_min: float = Field(gt=0, description="Lowest module kWp / inverter AC kW accepted.")
    dc_ac_ratio_max: float = Field(gt=0, description="Highest module kWp / inverter AC kW accepted.")
    cell_temperature_rise_c: float = Field(ge=0, description="Hot cell = hottest ambient + this.")
    default_temp_coeff_voc_pct_per_c: float = Field(lt=0, description="β(Voc) when a module lists none.")
    temp_coeff_vmp_pct_per_c: float = Field(lt=0, description="Temperature coefficient of Vmp, %/°C.")
    string_current_basis: Literal["imp", "isc"]
    ac_voltage_tolerance: float = Field(ge=0, lt=0.5)
    default_site_min_c: float
    default_site_max_c: float
    inverter_phases_by_connection: dict[ConnectionKind, list[int]]

    @model_validator(mode="after")
    def _window(self) -> ElectricalParameters:
        if self.dc_ac_ratio_min > self.dc_ac_ratio_max:
            raise ValueError("dc_ac_ratio_min is above dc_ac_ratio_max")
        return self


class KitSearchParameters(_Frozen):
    max_module_candidates: int = Field(ge=1)
    max_inverter_candidates: int = Field(ge=1)
    max_inverters_per_option: int = Field(ge=1)
    max_options: int = Field(ge=1)
    power_tolerance: tuple[float, float] = Field(description="Accepted DC power / kWp needed: low, high.")
    dc_cable_m_per_string: float = Field(ge=0)
    min_cable_section_mm2: float = Field(gt=0)
    max_cable_section_mm2: float = Field(gt=0)
    structure_module_slots_default: int = Field(ge=1)


class FinanceParameters(_Frozen):
    years: int = Field(ge=1, le=50)
    degradation_per_year: float = Field(ge=0, lt=1)
    tariff_inflation_per_year: float = Field(gt=-1)
    discount_rate_per_year: float = Field(gt=-1)
    inverter_replacement_year: int = Field(ge=1)
    inverter_replacement_share: float = Field(ge=0, le=1)
    self_consumption_share: float = Field(ge=0, le=1)
    pis_cofins: float = Field(ge=0, lt=1)
    financing_stale_after_days: int = Field(ge=0)
    installation_brl_per_wp: float = Field(ge=0, description="Labour, design, ART, paperwork per Wp.")
    installation_minimum_brl: float = Field(ge=0, description="Floor of the installation cost.")

    def installation_brl(self, dc_power_w: float) -> float:
        return max(self.installation_minimum_brl, self.installation_brl_per_wp * dc_power_w)


class FioBRule(_Frozen):
    """Lei 14.300/2022: the share of the Fio B that new systems pay on compensated energy."""

    legacy_cutoff: date = Field(description="Connected or requested before this day: full compensation.")
    legacy_full_compensation_until: int = Field(description="Last calendar year of the legacy regime.")
    schedule: dict[int, float] = Field(description="Calendar year → share of the Fio B paid.")
    share_after_schedule: float = Field(ge=0, le=1)
    fio_b_share_of_tusd: float = Field(gt=0, le=1, description="Fio B ≈ this fraction of the TUSD.")


class SiteTemperatures(_Frozen):
    min_c: float = Field(description="Coldest ambient: sets the highest string voltage (cold Voc).")
    max_c: float = Field(description="Hottest ambient: with the cell rise, sets the lowest Vmp.")


class FinancingLine(_Frozen):
    lender: str
    product: str
    monthly_rate_pct: float = Field(ge=0, description="Nominal monthly rate, % a.m.")
    term_months: int = Field(ge=1)
    date: date


class SolarParameters(_Frozen):
    sizing: SizingParameters
    electrical: ElectricalParameters
    kits: KitSearchParameters
    finance: FinanceParameters
    fio_b: FioBRule
    icms_by_uf: dict[str, float] = Field(description="UF → ICMS as a fraction (0.18).")
    temperatures_by_uf: dict[str, SiteTemperatures]
    financing: list[FinancingLine]

    def site_temperatures(self, uf: str | None) -> SiteTemperatures:
        """The state's design temperatures; the configured default for an unknown state."""
        known = self.temperatures_by_uf.get((uf or "").upper())
        if known is not None:
            return known
        return SiteTemperatures(
            min_c=self.electrical.default_site_min_c, max_c=self.electrical.default_site_max_c
        )


def read_semicolon_table(text: str) -> list[dict[str, str]]:
    """Our own small CSVs: `;` separated, a header row, `#` comment lines skipped."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [
        {key.strip(): value.strip() for key, value in row.items()}
        for row in csv.DictReader(lines, delimiter=";")
    ]


def _read_yaml(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text("utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return loaded


def _deep_merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def raw_parameters(folder: Path = DATA_DIR) -> dict[str, Any]:
    """The data files as one plain mapping (the shape `SolarParameters` validates)."""
    raw = _read_yaml(folder / "parametros.yaml")
    raw["fio_b"] = _read_yaml(folder / "lei-14300.yaml")
    icms = read_semicolon_table((folder / "icms-uf.csv").read_text("utf-8"))
    raw["icms_by_uf"] = {row["uf"]: float(row["icms_pct"]) / 100 for row in icms}
    temperatures = read_semicolon_table((folder / "temperaturas-uf.csv").read_text("utf-8"))
    raw["temperatures_by_uf"] = {
        row["uf"]: {"min_c": float(row["min_c"]), "max_c": float(row["max_c"])} for row in temperatures
    }
    raw["financing"] = _read_yaml(folder / "financiamento.yaml")["lines"]
    return raw


def load_parameters(folder: Path = DATA_DIR, overrides: Mapping[str, Any] | None = None) -> SolarParameters:
    """All approximate parameters, from `folder`, with `overrides` deep-merged in before validation."""
    if overrides is None and folder == DATA_DIR:
        return default_parameters()
    return SolarParameters.model_validate(_deep_merge(raw_parameters(folder), overrides or {}))


@lru_cache(maxsize=1)
def default_parameters() -> SolarParameters:
    """The shipped defaults, read once (the object is frozen, so sharing it is safe)."""
    return SolarParameters.model_validate(raw_parameters(DATA_DIR))
