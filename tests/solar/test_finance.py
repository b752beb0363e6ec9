"""Finance against hand-computed values.

Base case (round_params: PR 0.8, 30 days, no inflation, discounting, degradation, self-consumption or
PIS/COFINS): 4 kWp at HSP 5 makes 4 × 5 × 30 × 0.8 = 480 kWh/month = 5760 kWh/year. Consumption 530 kWh
mono offsets 500 kWh/month = 6000 kWh/year, so all 5760 kWh count. TUSD 0.50 + TE 0.32 = 0.82 R$/kWh;
with SP's 18 % ICMS: 0.82 / 0.82 = 1.00 R$/kWh. Fio B = 0.50 × 0.5 = 0.25 R$/kWh.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from solar.finance import FinanceInput, analyse_investment, cash_flows, fio_b_share, tariff_with_taxes
from solar.parameters import SolarParameters, load_parameters

LEGACY = date(2022, 12, 1)


def case(**changes: Any) -> FinanceInput:
    values: dict[str, Any] = {
        "investment_brl": 17280.0,
        "system_kwp": 4.0,
        "hsp": 5.0,
        "consumption_kwh_month": 530.0,
        "connection": "mono",
        "uf": "SP",
        "tusd_brl_kwh": 0.50,
        "te_brl_kwh": 0.32,
        "grid_request_date": LEGACY,
    } | changes
    return FinanceInput(**values)


def with_finance(base: SolarParameters, **finance: Any) -> SolarParameters:
    return base.model_copy(update={"finance": base.finance.model_copy(update=finance)})


@pytest.mark.parametrize(
    ("calendar_year", "requested", "share"),
    [
        (2023, date(2023, 3, 1), 0.15),
        (2024, date(2023, 3, 1), 0.30),
        (2025, date(2024, 5, 1), 0.45),
        (2026, date(2024, 5, 1), 0.60),
        (2027, date(2026, 1, 1), 0.75),
        (2028, date(2026, 1, 1), 0.90),
        (2029, date(2026, 1, 1), 1.00),  # from 2029: the configured value (assumed full Fio B)
        (2040, date(2026, 1, 1), 1.00),
        (2030, LEGACY, 0.0),  # requested before 7 Jan 2023: full compensation...
        (2045, LEGACY, 0.0),  # ...until the end of 2045
        (2046, LEGACY, 1.00),
        (2023, date(2023, 1, 6), 0.0),  # the day before the cut-off
        (2023, date(2023, 1, 7), 0.15),  # the cut-off day itself is under the new rule
    ],
)
def test_fio_b_schedule(params: SolarParameters, calendar_year: int, requested: date, share: float) -> None:
    assert fio_b_share(calendar_year, requested, params.fio_b) == pytest.approx(share)


def test_share_after_the_schedule_is_configurable() -> None:
    changed = load_parameters(overrides={"fio_b": {"share_after_schedule": 0.8}})
    assert fio_b_share(2031, date(2025, 1, 1), changed.fio_b) == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("uf", "pis_cofins", "expected"),
    [("SP", 0.0, 1.0), ("SP", 0.06, 0.82 / 0.76), ("MA", 0.06, 0.82 / 0.72), ("RS", 0.0, 0.82 / 0.83)],
)
def test_taxes(round_params: SolarParameters, uf: str, pis_cofins: float, expected: float) -> None:
    params = with_finance(round_params, pis_cofins=pis_cofins)
    assert tariff_with_taxes(0.82, uf, params) == pytest.approx(expected)


def test_unknown_state_has_no_icms(round_params: SolarParameters) -> None:
    with pytest.raises(ValueError):
        tariff_with_taxes(0.82, "XX", round_params)


def test_legacy_system_base_case(round_params: SolarParameters) -> None:
    result = analyse_investment(case(), round_params)
    assert result.first_year_savings_brl == pytest.approx(5760.0)
    assert result.simple_payback_years == pytest.approx(3.0)
    assert result.discounted_payback_years == pytest.approx(3.0)  # no discounting
    assert len(result.years) == 25 and result.years[-1].calendar_year == 2046
    # year 25 is 2046: the legacy regime has ended, full Fio B: 5760 × (1.00 − 0.25) = 4320
    assert result.years[-1].savings_brl == pytest.approx(4320.0)
    assert result.npv_brl == pytest.approx(24 * 5760 + 4320 - 17280)  # 125 280


def test_fio_b_year_by_year_for_a_2024_request(round_params: SolarParameters) -> None:
    years = cash_flows(case(grid_request_date=date(2024, 3, 1)), round_params)
    # savings = 5760 × (1.00 − share × 0.25)
    expected = {
        2024: 5328.0,
        2025: 5112.0,
        2026: 4896.0,
        2027: 4680.0,
        2028: 4464.0,
        2029: 4320.0,
        2035: 4320.0,
    }
    by_year = {flow.calendar_year: flow for flow in years}
    for calendar_year, savings in expected.items():
        assert by_year[calendar_year].savings_brl == pytest.approx(savings), calendar_year
    assert by_year[2026].fio_b_brl_kwh == pytest.approx(0.15)  # 0.60 × 0.25


@pytest.mark.parametrize(
    ("consumption", "connection", "used"),
    [
        (530.0, "mono", 5760.0),  # all generation offsets consumption
        (300.0, "mono", 3240.0),  # 12 × (300 − 30): the surplus and the minimum bill save nothing
        (300.0, "bi", 3000.0),  # 12 × (300 − 50)
        (300.0, "tri", 2400.0),  # 12 × (300 − 100)
        (90.0, "tri", 0.0),  # below the minimum bill: nothing to save
    ],
)
def test_minimum_bill_caps_the_savings(
    round_params: SolarParameters, consumption: float, connection: str, used: float
) -> None:
    first = cash_flows(case(consumption_kwh_month=consumption, connection=connection), round_params)[0]
    assert first.used_kwh == pytest.approx(used)
    assert first.savings_brl == pytest.approx(used * 1.0)


def test_simple_payback_is_none_without_savings(round_params: SolarParameters) -> None:
    result = analyse_investment(case(consumption_kwh_month=90.0, connection="tri"), round_params)
    assert result.simple_payback_years is None and result.discounted_payback_years is None


def test_degradation(round_params: SolarParameters) -> None:
    years = cash_flows(
        case(consumption_kwh_month=2000.0), with_finance(round_params, degradation_per_year=0.005)
    )
    assert years[0].generation_kwh == pytest.approx(5760.0)
    assert years[1].generation_kwh == pytest.approx(5731.2)  # × 0.995
    assert years[24].generation_kwh == pytest.approx(5107.124, rel=1e-6)  # × 0.995^24 = 0.886654


def test_tariff_inflation(round_params: SolarParameters) -> None:
    years = cash_flows(case(), with_finance(round_params, tariff_inflation_per_year=0.06))
    assert years[2].tariff_brl_kwh == pytest.approx(1.1236)  # 1.06²
    assert years[2].savings_brl == pytest.approx(6471.936)


def test_self_consumption_escapes_the_fio_b(round_params: SolarParameters) -> None:
    first = cash_flows(case(grid_request_date=date(2024, 3, 1), self_consumption_share=0.3), round_params)[0]
    # 1728 kWh self-consumed at 1.00 + 4032 kWh compensated at (1.00 − 0.30 × 0.25)
    assert (first.self_consumed_kwh, first.compensated_kwh) == (pytest.approx(1728.0), pytest.approx(4032.0))
    assert first.savings_brl == pytest.approx(1728.0 + 4032.0 * 0.925)  # 5457.6


def test_inverter_replacement(round_params: SolarParameters) -> None:
    years = cash_flows(case(inverter_replacement_brl=3000.0), round_params)
    assert years[11].year == 12 and years[11].replacement_brl == 3000.0
    assert years[11].net_brl == pytest.approx(2760.0)
    assert sum(flow.replacement_brl for flow in years) == 3000.0
    assert years[-1].cumulative_brl == pytest.approx(-17280 + 24 * 5760 + 4320 - 3000)  # 122 280
    default = cash_flows(case(), with_finance(round_params, inverter_replacement_share=0.15))
    assert default[11].replacement_brl == pytest.approx(2592.0)  # 15 % of 17 280


def test_discounted_payback(round_params: SolarParameters) -> None:
    result = analyse_investment(case(), with_finance(round_params, discount_rate_per_year=0.10))
    # discounted savings 5236.36, 4760.33, 4327.57 (sum 14 324.27), then 3934.16:
    # 3 + (17 280 − 14 324.27) / 3934.16 = 3.7513
    assert result.discounted_payback_years == pytest.approx(3.7513, abs=1e-4)
    assert result.simple_payback_years == pytest.approx(3.0)
    assert result.irr == pytest.approx(0.3331, abs=1e-3)  # annuity factor 3.0 over 25 years


def test_never_paid_back(round_params: SolarParameters) -> None:
    result = analyse_investment(
        case(investment_brl=1_000_000.0), with_finance(round_params, discount_rate_per_year=0.1)
    )
    assert result.discounted_payback_years is None
    assert result.simple_payback_years == pytest.approx(1_000_000 / 5760)


def test_shipped_defaults_give_a_plausible_result(params: SolarParameters) -> None:
    data = case(grid_request_date=date(2026, 11, 1), investment_brl=4 * 2500.0)  # ~R$ 2.5/Wp
    result = analyse_investment(data, params)
    assert 1 < (result.simple_payback_years or 0) < 6
    assert result.discounted_payback_years is not None
