"""Sizing: kWp = consumption above the minimum bill / (HSP × 30 × PR), by connection and month."""

from __future__ import annotations

import pytest

from solar.parameters import SolarParameters
from solar.sizing import monthly_figures, offset_kwh_month, size_system

MONTHS_WITH_A_LOW_ONE = [100, 20, 300, 130, 130, 130, 130, 130, 130, 130, 130, 130]


@pytest.mark.parametrize(
    ("consumption", "connection", "hsp", "offset", "kwp"),
    [
        # PR 0.8 × 30 days × HSP 5 = 120 kWh per kWp and month
        (500, "mono", 5.0, 470.0, 470 / 120),  # 3.9167
        (500, "bi", 5.0, 450.0, 3.75),
        (500, "tri", 5.0, 400.0, 400 / 120),  # 3.3333
        (25, "mono", 5.0, 0.0, 0.0),  # below the minimum bill: nothing to offset
        (100, "tri", 5.0, 0.0, 0.0),  # exactly the minimum
        (1030, "mono", 4.0, 1000.0, 1000 / 96),  # HSP 4: 96 kWh per kWp; 10.4167
        # 12 months, mono: 70 + 0 + 270 + 9 × 100 = 1240 → 103.33/month (the 20 kWh month offsets
        # nothing and does not lower the others: not (mean 132.5 − 30) = 102.5)
        (MONTHS_WITH_A_LOW_ONE, "mono", 5.0, 1240 / 12, 1240 / 12 / 120),
        ([200] * 12, "bi", 6.0, 150.0, 150 / 144),
    ],
)
def test_kwp_needed(
    round_params: SolarParameters, consumption: object, connection: str, hsp: float, offset: float, kwp: float
) -> None:
    result = size_system(consumption, hsp, connection, round_params.sizing)  # type: ignore[arg-type]
    assert result.offset_kwh_month == pytest.approx(offset)
    assert result.kwp_needed == pytest.approx(kwp)
    assert result.expected_generation_kwh_month == pytest.approx(offset)  # the size generates the offset
    assert result.hsp == hsp
    assert result.performance_ratio == 0.8


@pytest.mark.parametrize(("connection", "minimum"), [("mono", 30), ("bi", 50), ("tri", 100)])
def test_minimum_bill_per_connection(round_params: SolarParameters, connection: str, minimum: float) -> None:
    result = size_system(300, 5.0, connection, round_params.sizing)  # type: ignore[arg-type]
    assert result.minimum_bill_kwh == minimum
    assert result.offset_kwh_month == 300 - minimum


def test_shipped_pr_is_used(params: SolarParameters) -> None:
    # 300 kWh mono at HSP 4.5 with PR 0.78: 270 / (4.5 × 30 × 0.78) = 270 / 105.3
    assert size_system(300, 4.5, "mono", params.sizing).kwp_needed == pytest.approx(2.5641026)


def test_average_consumption_of_twelve_months(round_params: SolarParameters) -> None:
    result = size_system(MONTHS_WITH_A_LOW_ONE, 5.0, "mono", round_params.sizing)
    assert result.consumption_kwh_month == pytest.approx(132.5)


def test_monthly_generation_follows_monthly_hsp(round_params: SolarParameters) -> None:
    monthly_hsp = [6.0, 5.5, 5.0, 4.5, 4.0, 3.5, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0]
    result = size_system(270, 4.75, "mono", round_params.sizing, monthly_hsp=monthly_hsp)
    kwp = 240 / (4.75 * 30 * 0.8)  # 2.1053 kWp
    assert result.monthly_generation_kwh is not None
    assert result.monthly_generation_kwh[0] == pytest.approx(kwp * 6.0 * 24)  # January: 303.16 kWh
    assert result.monthly_generation_kwh[5] == pytest.approx(kwp * 3.5 * 24)  # June: 176.84 kWh


@pytest.mark.parametrize(
    "consumption",
    [[100] * 11, [100] * 13, [], -5, [100] * 11 + [-1]],
    ids=["11", "13", "none", "neg", "neg-month"],
)
def test_bad_consumption_is_refused(round_params: SolarParameters, consumption: object) -> None:
    with pytest.raises(ValueError):
        size_system(consumption, 5.0, "mono", round_params.sizing)  # type: ignore[arg-type]


def test_bad_hsp_is_refused(round_params: SolarParameters) -> None:
    with pytest.raises(ValueError):
        size_system(300, 0.0, "mono", round_params.sizing)
    with pytest.raises(ValueError):
        size_system(300, 5.0, "mono", round_params.sizing, monthly_hsp=[5.0] * 11)


def test_helpers(round_params: SolarParameters) -> None:
    assert monthly_figures(250) == [250.0]
    # six months below the 30 kWh minimum offset nothing; six at 60 offset 30 each: 180 / 12
    assert offset_kwh_month([10] * 6 + [60] * 6, "mono", round_params.sizing) == pytest.approx(15.0)
