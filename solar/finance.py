"""Money (DOMAIN.md §5-6): savings under Lei 14.300, paybacks and a 25-year cash flow.

Year y (1 = the connection's calendar year) of a system:
  generation_y  = kWp × HSP × days × PR × 12 × (1 − degradation)^(y−1)
  used_y        = min(generation_y, 12 × consumption above the minimum bill): surplus credits expire
                  unused (60 months) and the minimum bill is due anyway, so neither saves money
  self-consumed = used_y × self-consumption share (never enters the compensation); the rest is compensated
  tariff_y      = (TUSD + TE) / (1 − (PIS + COFINS + ICMS of the state)) × (1 + inflation)^(y−1)
  Fio B_y       = TUSD × Fio B fraction × (1 + inflation)^(y−1), paid at the Lei 14.300 share of year y
  savings_y     = compensated × (tariff_y − share_y × Fio B_y) + self-consumed × tariff_y
The inverter is replaced in `inverter_replacement_year` (at today's price: equipment prices have fallen
faster than inflation). Cash flows are discounted at `discount_rate_per_year`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from solar.parameters import ConnectionKind, FioBRule, SolarParameters
from solar.sizing import generation_kwh_month, offset_kwh_month


class FinanceInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    investment_brl: float = Field(gt=0)
    system_kwp: float = Field(gt=0)
    hsp: float = Field(gt=0, description="Site HSP, kWh/m²/day (annual average).")
    consumption_kwh_month: float | list[float] = Field(description="One monthly figure or 12 (Jan…Dec).")
    connection: ConnectionKind
    uf: str = Field(description="State, for the ICMS.")
    tusd_brl_kwh: float = Field(ge=0, description="Residential TUSD without taxes, R$/kWh.")
    te_brl_kwh: float = Field(ge=0, description="Residential TE without taxes, R$/kWh.")
    grid_request_date: date = Field(description="When connection was requested: decides the Fio B regime.")
    inverter_replacement_brl: float | None = Field(
        default=None, ge=0, description="Default: a share of the investment."
    )
    self_consumption_share: float | None = Field(default=None, ge=0, le=1, description="Default: parameters.")


class YearCashFlow(BaseModel):
    model_config = ConfigDict(frozen=True)

    year: int
    calendar_year: int
    generation_kwh: float
    used_kwh: float
    self_consumed_kwh: float
    compensated_kwh: float
    tariff_brl_kwh: float = Field(description="With taxes and inflation.")
    fio_b_share: float
    fio_b_brl_kwh: float = Field(description="Fio B paid per compensated kWh (share × Fio B).")
    savings_brl: float
    replacement_brl: float
    net_brl: float
    cumulative_brl: float
    discounted_cumulative_brl: float


class FinanceResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    investment_brl: float
    first_year_savings_brl: float
    simple_payback_years: float | None = Field(description="Investment / first-year savings.")
    discounted_payback_years: float | None = Field(description="None when not paid back within the horizon.")
    npv_brl: float
    irr: float | None
    years: list[YearCashFlow]


def tariff_with_taxes(tariff_brl_kwh: float, uf: str, params: SolarParameters) -> float:
    """Price to the customer ≈ tariff / (1 − (PIS + COFINS + ICMS)): the taxes are "por dentro"."""
    icms = params.icms_by_uf.get(uf.upper())
    if icms is None:
        raise ValueError(f"no ICMS rate for state {uf!r}")
    return tariff_brl_kwh / (1 - (params.finance.pis_cofins + icms))


def fio_b_share(calendar_year: int, grid_request_date: date, rule: FioBRule) -> float:
    """Share of the Fio B paid on compensated energy in a calendar year (Lei 14.300/2022)."""
    if grid_request_date < rule.legacy_cutoff and calendar_year <= rule.legacy_full_compensation_until:
        return 0.0
    if calendar_year in rule.schedule:
        return rule.schedule[calendar_year]
    if calendar_year > max(rule.schedule):
        return rule.share_after_schedule
    return rule.schedule[min(rule.schedule)]  # before the schedule: only a request dated ahead of the law


def cash_flows(data: FinanceInput, params: SolarParameters) -> list[YearCashFlow]:
    finance, sizing = params.finance, params.sizing
    first_generation = 12 * generation_kwh_month(data.system_kwp, data.hsp, sizing)
    offsettable = 12 * offset_kwh_month(data.consumption_kwh_month, data.connection, sizing)
    own_use = (
        finance.self_consumption_share if data.self_consumption_share is None else data.self_consumption_share
    )
    tariff = tariff_with_taxes(data.tusd_brl_kwh + data.te_brl_kwh, data.uf, params)
    fio_b = data.tusd_brl_kwh * params.fio_b.fio_b_share_of_tusd
    replacement = (
        data.investment_brl * finance.inverter_replacement_share
        if data.inverter_replacement_brl is None
        else data.inverter_replacement_brl
    )
    years: list[YearCashFlow] = []
    cumulative = discounted = -data.investment_brl
    for year in range(1, finance.years + 1):
        growth = (1 + finance.tariff_inflation_per_year) ** (year - 1)
        generation = first_generation * (1 - finance.degradation_per_year) ** (year - 1)
        used = min(generation, offsettable)
        self_consumed = used * own_use
        compensated = used - self_consumed
        calendar_year = data.grid_request_date.year + year - 1
        share = fio_b_share(calendar_year, data.grid_request_date, params.fio_b)
        savings = compensated * (tariff - share * fio_b) * growth + self_consumed * tariff * growth
        spent = replacement if year == finance.inverter_replacement_year else 0.0
        net = savings - spent
        cumulative += net
        discounted += net / (1 + finance.discount_rate_per_year) ** year
        years.append(
            YearCashFlow(
                year=year,
                calendar_year=calendar_year,
                generation_kwh=generation,
                used_kwh=used,
                self_consumed_kwh=self_consumed,
                compensated_kwh=compensated,
                tariff_brl_kwh=tariff * growth,
                fio_b_share=share,
                fio_b_brl_kwh=share * fio_b * growth,
                savings_brl=savings,
                replacement_brl=spent,
                net_brl=net,
                cumulative_brl=cumulative,
                discounted_cumulative_brl=discounted,
            )
        )
    return years


def discounted_payback(investment: float, years: Sequence[YearCashFlow]) -> float | None:
    """Years until the discounted cumulative turns non-negative, interpolated within the year."""
    previous = -investment
    for flow in years:
        if flow.discounted_cumulative_brl >= 0:
            gained = flow.discounted_cumulative_brl - previous
            return flow.year - 1 + (-previous / gained if gained > 0 else 0.0)
        previous = flow.discounted_cumulative_brl
    return None


def net_present_value(rate: float, investment: float, nets: Sequence[float]) -> float:
    return -investment + sum(net / (1 + rate) ** year for year, net in enumerate(nets, start=1))


def internal_rate_of_return(investment: float, nets: Sequence[float]) -> float | None:
    """The rate where NPV = 0, by bisection on (−99 %, 1000 %); None without a sign change."""
    low, high = -0.99, 10.0
    if net_present_value(low, investment, nets) * net_present_value(high, investment, nets) > 0:
        return None
    for _ in range(200):
        middle = (low + high) / 2
        if net_present_value(middle, investment, nets) > 0:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def analyse_investment(data: FinanceInput, params: SolarParameters) -> FinanceResult:
    years = cash_flows(data, params)
    first = years[0].savings_brl
    nets = [flow.net_brl for flow in years]
    return FinanceResult(
        investment_brl=data.investment_brl,
        first_year_savings_brl=first,
        simple_payback_years=data.investment_brl / first if first > 0 else None,
        discounted_payback_years=discounted_payback(data.investment_brl, years),
        npv_brl=net_present_value(params.finance.discount_rate_per_year, data.investment_brl, nets),
        irr=internal_rate_of_return(data.investment_brl, nets),
        years=years,
    )
