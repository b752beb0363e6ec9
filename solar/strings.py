"""Electrical checks of a module on an inverter (DOMAIN.md §3), and the string layout search.

Voltages follow the module temperature: `V(T) = V_STC × (1 + coeff/100 × (T − 25))`, coefficients in
%/°C (negative). On the coldest morning the cells sit at ambient, so cold Voc sets the highest string
voltage; at full sun on the hottest day the cells run `cell_temperature_rise_c` above ambient, so hot Vmp
sets the lowest MPPT voltage. DC/AC ratio is module kWp (STC) / inverter AC kW — not the inverse AC/DC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from solar.connection import GridConnection, ac_voltage_ok, phases_ok
from solar.equipment import Inverter, Module
from solar.parameters import ElectricalParameters, SiteTemperatures

STC_TEMPERATURE_C = 25.0
_EPSILON = 1e-9  # so that 1000.0 / 50.0 = 20 modules is not lost to floating-point rounding


class Check(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class StringLayout:
    """`inverters` identical units, `strings` strings of `modules_in_series` modules in all, at most
    `strings_per_mppt` in parallel on one MPPT. For microinverters: one module per input."""

    modules_in_series: int
    strings: int
    inverters: int
    strings_per_mppt: int

    @property
    def modules(self) -> int:
        return self.modules_in_series * self.strings


@dataclass(frozen=True)
class ModuleVoltages:
    voc_cold_v: float
    vmp_cold_v: float
    vmp_hot_v: float
    current_a: float
    current_label: str


def at_temperature(value_stc: float, coeff_pct_per_c: float, temperature_c: float) -> float:
    return value_stc * (1 + coeff_pct_per_c / 100 * (temperature_c - STC_TEMPERATURE_C))


def module_voltages(module: Module, site: SiteTemperatures, params: ElectricalParameters) -> ModuleVoltages:
    beta = module.temp_coeff_voc_pct_per_c
    if beta is None:
        beta = params.default_temp_coeff_voc_pct_per_c
    hot_cell = site.max_c + params.cell_temperature_rise_c
    current, label = (module.imp_a, "Imp") if params.string_current_basis == "imp" else (module.isc_a, "Isc")
    return ModuleVoltages(
        voc_cold_v=at_temperature(module.voc_v, beta, site.min_c),
        vmp_cold_v=at_temperature(module.vmp_v, params.temp_coeff_vmp_pct_per_c, site.min_c),
        vmp_hot_v=at_temperature(module.vmp_v, params.temp_coeff_vmp_pct_per_c, hot_cell),
        current_a=current,
        current_label=label,
    )


def string_checks(
    module: Module,
    inverter: Inverter,
    layout: StringLayout,
    site: SiteTemperatures,
    params: ElectricalParameters,
) -> list[Check]:
    """Voltage window and current of the layout's strings on this inverter's MPPTs."""
    v = module_voltages(module, site, params)
    n = layout.modules_in_series
    hot_cell = site.max_c + params.cell_temperature_rise_c
    voc, vmp_hot, vmp_cold = n * v.voc_cold_v, n * v.vmp_hot_v, n * v.vmp_cold_v
    current = layout.strings_per_mppt * v.current_a
    return [
        Check(
            name="voc_cold_below_max_dc_voltage",
            ok=voc <= inverter.max_dc_voltage_v,
            detail=f"{n} × Voc {v.voc_cold_v:.2f} V at {site.min_c:g} °C = {voc:.1f} V "
            f"(max DC {inverter.max_dc_voltage_v:g} V)",
        ),
        Check(
            name="vmp_hot_above_mppt_min",
            ok=vmp_hot >= inverter.mppt_low_v,
            detail=f"{n} × Vmp {v.vmp_hot_v:.2f} V at cell {hot_cell:g} °C = {vmp_hot:.1f} V "
            f"(MPPT min {inverter.mppt_low_v:g} V)",
        ),
        Check(
            name="vmp_cold_below_mppt_max",
            ok=vmp_cold <= inverter.mppt_high_v,
            detail=f"{n} × Vmp {v.vmp_cold_v:.2f} V at {site.min_c:g} °C = {vmp_cold:.1f} V "
            f"(MPPT max {inverter.mppt_high_v:g} V)",
        ),
        Check(
            name="string_current_below_mppt_max",
            ok=current <= inverter.max_dc_current_a + _EPSILON,
            detail=f"{layout.strings_per_mppt} string(s) × {v.current_label} {v.current_a:g} A = "
            f"{current:.2f} A per MPPT (max {inverter.max_dc_current_a:g} A)",
        ),
    ]


def dc_ac_ratio(dc_power_w: float, ac_power_w: float) -> float:
    """Module kWp (STC) / inverter AC kW: above 1 means more module than inverter."""
    return dc_power_w / ac_power_w


def dc_ac_check(dc_power_w: float, ac_power_w: float, params: ElectricalParameters) -> Check:
    ratio = dc_ac_ratio(dc_power_w, ac_power_w)
    low, high = params.dc_ac_ratio_min, params.dc_ac_ratio_max
    return Check(
        name="dc_ac_ratio",
        ok=low - _EPSILON <= ratio <= high + _EPSILON,
        detail=f"DC/AC = module {dc_power_w / 1000:.2f} kWp / inverter {ac_power_w / 1000:.2f} kW AC = "
        f"{ratio:.2f} (accepted {low:g}–{high:g})",
    )


def connection_checks(
    inverter: Inverter, connection: GridConnection, params: ElectricalParameters
) -> list[Check]:
    voltages = "/".join(f"{v:g}" for v in connection.available_ac_voltages())
    accepted = params.inverter_phases_by_connection.get(connection.kind, [])
    return [
        Check(
            name="ac_voltage",
            ok=ac_voltage_ok(inverter.ac_voltage_v, connection, params),
            detail=f"inverter {inverter.ac_voltage_v:g} V AC; {connection.kind} connection: {voltages} V",
        ),
        Check(
            name="phases",
            ok=phases_ok(inverter.phases, connection, params),
            detail=f"inverter {inverter.phases}-phase; {connection.kind} connection accepts "
            f"{', '.join(map(str, accepted)) or 'none'}-phase inverters",
        ),
    ]


def series_range(voltages: ModuleVoltages, inverter: Inverter) -> tuple[int, int, int]:
    """(fewest modules in series, most modules in series, most strings in parallel per MPPT) that keep
    every string check passing, for a module whose voltages at the site's temperatures are `voltages`."""
    most = min(
        math.floor(inverter.max_dc_voltage_v / voltages.voc_cold_v + _EPSILON),
        math.floor(inverter.mppt_high_v / voltages.vmp_cold_v + _EPSILON),
    )
    fewest = max(1, math.ceil(inverter.mppt_low_v / voltages.vmp_hot_v - _EPSILON))
    return fewest, most, math.floor(inverter.max_dc_current_a / voltages.current_a + _EPSILON)


def find_layout(
    module: Module,
    inverter: Inverter,
    inverters: int,
    modules_needed: int,
    site: SiteTemperatures,
    params: ElectricalParameters,
    voltages: ModuleVoltages | None = None,
) -> StringLayout | None:
    """The layout of at least `modules_needed` modules on `inverters` string inverters that passes every
    string check: fewest extra modules first, then fewest strings (longer strings, less cable). Strings
    all have the same length, and every inverter gets at least one. None when no layout fits.
    `voltages` (from `module_voltages`) may be passed in when the caller already has them."""
    fewest, most, parallel = series_range(voltages or module_voltages(module, site, params), inverter)
    mppts = inverters * inverter.mppt_count
    best: tuple[int, int, int] | None = None
    for series in range(fewest, most + 1):
        strings = max(math.ceil(modules_needed / series), inverters)
        if strings > mppts * parallel:
            continue
        candidate = (series * strings, strings, series)
        if best is None or candidate < best:
            best = candidate
    if best is None:
        return None
    _modules, strings, series = best
    return StringLayout(series, strings, inverters, math.ceil(strings / mppts))


def micro_fits(voltages: ModuleVoltages, micro: Inverter) -> bool:
    """Every string check passes for one module per input of this microinverter."""
    fewest, most, parallel = series_range(voltages, micro)
    return fewest <= 1 <= most and math.ceil(micro.inputs / micro.mppt_count) <= parallel


def micro_layout(inverter: Inverter, modules_needed: int) -> StringLayout:
    """Microinverters: one module per input, as many units as the modules need."""
    units = math.ceil(modules_needed / inverter.inputs)
    per_mppt = math.ceil(inverter.inputs / inverter.mppt_count)
    return StringLayout(1, units * inverter.inputs, units, per_mppt)
