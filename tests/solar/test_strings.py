"""String checks (DOMAIN.md §3) against hand-computed voltages, the DC/AC ratio and the AC connection.

Module (tests/solar/parts.py): Voc 49.5 V, Vmp 41.6 V, Imp 13.2 A, Isc 13.9 A, β(Voc) −0.27 %/°C.
Site 0 °C / 40 °C; cell rise 30 °C → hot cell 70 °C; Vmp coefficient −0.38 %/°C (shipped defaults).
  cold Voc = 49.5 × (1 + 0.0027 × 25) = 52.84125 V
  cold Vmp = 41.6 × (1 + 0.0038 × 25) = 45.552 V
  hot Vmp  = 41.6 × (1 − 0.0038 × 45) = 34.4864 V
"""

from __future__ import annotations

from typing import Any

import pytest

from solar.connection import GridConnection
from solar.parameters import SiteTemperatures, SolarParameters
from solar.strings import (
    StringLayout,
    at_temperature,
    connection_checks,
    dc_ac_check,
    find_layout,
    micro_layout,
    module_voltages,
    string_checks,
)
from tests.solar.parts import inverter, module

SITE = SiteTemperatures(min_c=0, max_c=40)
NAMES = (
    "voc_cold_below_max_dc_voltage",
    "vmp_hot_above_mppt_min",
    "vmp_cold_below_mppt_max",
    "string_current_below_mppt_max",
)


def test_module_voltages_at_site_temperatures(params: SolarParameters) -> None:
    v = module_voltages(module(), SITE, params.electrical)
    assert v.voc_cold_v == pytest.approx(52.84125)
    assert v.vmp_cold_v == pytest.approx(45.552)
    assert v.vmp_hot_v == pytest.approx(34.4864)
    assert (v.current_a, v.current_label) == (13.2, "Imp")


@pytest.mark.parametrize(
    ("voc", "beta", "temperature", "expected"),
    [
        (49.5, -0.27, 25, 49.5),  # STC
        (49.5, -0.27, -10, 49.5 * 1.0945),  # 54.17775 V
        (49.5, -0.27, 65, 49.5 * 0.892),  # hot: lower
        (40.0, -0.30, -5, 43.6),
    ],
)
def test_cold_voc_math(voc: float, beta: float, temperature: float, expected: float) -> None:
    assert at_temperature(voc, beta, temperature) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("series", "per_mppt", "inverter_changes", "module_changes", "failing"),
    [
        (15, 1, {}, {}, set()),  # 792.6 V ≤ 1000; 517.3 V ≥ 120; 683.3 V ≤ 850; 13.2 A ≤ 16
        (15, 1, {"max_dc_voltage_v": 780.0}, {}, {"voc_cold_below_max_dc_voltage"}),  # 792.6 > 780
        (14, 1, {"max_dc_voltage_v": 780.0}, {}, set()),  # 739.8 V
        (19, 1, {"mppt_high_v": 1000.0}, {}, {"voc_cold_below_max_dc_voltage"}),  # 1004.0 V > 1000
        (3, 1, {}, {}, {"vmp_hot_above_mppt_min"}),  # 3 × 34.4864 = 103.5 V < 120
        (4, 1, {}, {}, set()),  # 137.9 V
        (15, 1, {"mppt_high_v": 650.0}, {}, {"vmp_cold_below_mppt_max"}),  # 683.3 V > 650
        (14, 1, {"mppt_high_v": 650.0}, {}, set()),  # 637.7 V
        (15, 2, {}, {}, {"string_current_below_mppt_max"}),  # 26.4 A > 16
        (15, 1, {"max_dc_current_a": 13.0}, {}, {"string_current_below_mppt_max"}),  # 13.2 > 13
        # no β on the module: the default −0.29 %/°C → 49.5 × 1.0725 = 53.09 V; × 19 = 1008.7 V
        (
            19,
            1,
            {"mppt_high_v": 1000.0},
            {"temp_coeff_voc_pct_per_c": None},
            {"voc_cold_below_max_dc_voltage"},
        ),
        (18, 1, {}, {"temp_coeff_voc_pct_per_c": None}, set()),  # 955.6 V; Vmp cold 820.0 V ≤ 850
    ],
)
def test_string_checks(
    params: SolarParameters,
    series: int,
    per_mppt: int,
    inverter_changes: dict[str, Any],
    module_changes: dict[str, Any],
    failing: set[str],
) -> None:
    layout = StringLayout(series, per_mppt * 2, 1, per_mppt)
    checks = string_checks(
        module(**module_changes), inverter(**inverter_changes), layout, SITE, params.electrical
    )
    assert tuple(check.name for check in checks) == NAMES
    assert {check.name for check in checks if not check.ok} == failing


def test_voc_detail_states_the_numbers(params: SolarParameters) -> None:
    check = string_checks(module(), inverter(), StringLayout(15, 1, 1, 1), SITE, params.electrical)[0]
    assert "792.6 V" in check.detail and "1000 V" in check.detail and "52.84 V" in check.detail


def test_colder_site_lowers_the_series_limit(params: SolarParameters) -> None:
    cold = SiteTemperatures(min_c=-10, max_c=35)  # cold Voc 54.17775 V: 18 → 975.2 V, 19 → 1029.4 V
    high_window = inverter(mppt_high_v=1000.0)
    ok = string_checks(module(), high_window, StringLayout(18, 1, 1, 1), cold, params.electrical)
    too_long = string_checks(module(), high_window, StringLayout(19, 1, 1, 1), cold, params.electrical)
    assert ok[0].ok and not too_long[0].ok


def test_isc_basis_is_stricter(params: SolarParameters) -> None:
    strict = params.electrical.model_copy(update={"string_current_basis": "isc"})
    checks = string_checks(module(), inverter(max_dc_current_a=13.5), StringLayout(10, 1, 1, 1), SITE, strict)
    assert not checks[3].ok and "Isc 13.9 A" in checks[3].detail  # 13.9 > 13.5, while Imp 13.2 would pass


@pytest.mark.parametrize(
    ("dc_w", "ac_w", "ok", "ratio"),
    [
        (5500, 5000, True, "1.10"),
        (5000, 5000, True, "1.00"),
        (6750, 5000, True, "1.35"),  # the top of the window
        (6800, 5000, False, "1.36"),
        (4900, 5000, False, "0.98"),
        (13200, 10000, True, "1.32"),
    ],
)
def test_dc_ac_ratio(params: SolarParameters, dc_w: float, ac_w: float, ok: bool, ratio: str) -> None:
    check = dc_ac_check(dc_w, ac_w, params.electrical)
    assert check.ok is ok
    assert f"= {ratio}" in check.detail
    assert "module" in check.detail and "DC/AC" in check.detail  # says which convention


@pytest.mark.parametrize(
    ("kind", "phase_v", "inverter_v", "inverter_phases", "voltage_ok", "phases_ok"),
    [
        ("mono", 220, 220, 1, True, True),
        ("mono", 127, 220, 1, False, True),  # a 127 V mono connection has no 220 V
        ("mono", 127, 127, 1, True, True),
        ("bi", 127, 220, 1, True, True),  # 220 V between the two phases
        ("bi", 127, 220, 2, True, True),
        ("tri", 220, 380, 3, True, True),  # 220/380 V system
        ("tri", 127, 380, 3, False, True),  # 127/220 V system has no 380 V
        ("mono", 220, 380, 3, False, False),
        ("mono", None, 220, 1, True, True),  # voltage unknown: 127 or 220 possible
        ("mono", None, 380, 1, False, True),
        ("bi", 127, 220, 3, True, False),
    ],
)
def test_connection_checks(
    params: SolarParameters,
    kind: str,
    phase_v: float | None,
    inverter_v: float,
    inverter_phases: int,
    voltage_ok: bool,
    phases_ok: bool,
) -> None:
    connection = GridConnection(kind=kind, phase_voltage_v=phase_v)  # type: ignore[arg-type]
    checks = connection_checks(
        inverter(ac_voltage_v=inverter_v, phases=inverter_phases), connection, params.electrical
    )
    assert [(c.name, c.ok) for c in checks] == [("ac_voltage", voltage_ok), ("phases", phases_ok)]


@pytest.mark.parametrize(
    ("needed", "units", "expected"),
    [
        # series 4..18 (hot Vmp 120 V floor, cold Voc/Vmp ceilings), 1 string per 16 A MPPT, 2 MPPTs
        (10, 1, StringLayout(10, 1, 1, 1)),  # one string of 10 beats two of 5
        (20, 1, StringLayout(10, 2, 1, 1)),
        (21, 1, StringLayout(11, 2, 1, 1)),  # 22 modules: one extra, the fewest possible
        (3, 1, StringLayout(4, 1, 1, 1)),  # below the MPPT floor: rounded up to 4
        (40, 1, None),  # 2 strings × 18 = 36 at most
        (40, 2, StringLayout(10, 4, 2, 1)),
        (1, 2, StringLayout(4, 2, 2, 1)),  # each inverter gets a string
    ],
)
def test_find_layout(params: SolarParameters, needed: int, units: int, expected: StringLayout | None) -> None:
    layout = find_layout(module(), inverter(), units, needed, SITE, params.electrical)
    assert layout == expected
    if layout is not None:
        assert all(c.ok for c in string_checks(module(), inverter(), layout, SITE, params.electrical))


def test_micro_layout() -> None:
    micro = inverter(micro=True, inputs=2, mppt_count=2, ac_power_w=1000.0)
    assert micro_layout(micro, 5) == StringLayout(1, 6, 3, 1)  # 3 units × 2 inputs: 6 modules
