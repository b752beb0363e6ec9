"""How many kWp a customer needs: consumption above the minimum bill, the site's HSP and the PR.

`kWp = offset kWh/month / (HSP × days × PR)`, where the offset is the consumption the system can
actually remove from the bill: each month's consumption above the custo de disponibilidade (30/50/100 kWh
for mono/bi/tri), because that minimum is billed whatever the system generates.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from solar.parameters import ConnectionKind, SizingParameters

Consumption = float | Sequence[float]


class SizingResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    consumption_kwh_month: float = Field(description="Average monthly consumption.")
    minimum_bill_kwh: float = Field(description="Custo de disponibilidade of the connection.")
    offset_kwh_month: float = Field(description="Average monthly consumption the system can offset.")
    hsp: float = Field(description="Site HSP used, kWh/m²/day (annual average).")
    performance_ratio: float
    days_per_month: float
    kwp_needed: float
    expected_generation_kwh_month: float = Field(description="Average monthly generation of kwp_needed.")
    monthly_generation_kwh: list[float] | None = Field(
        default=None, description="Generation of kwp_needed month by month (Jan…Dec), from monthly HSP."
    )


def monthly_figures(consumption: Consumption) -> list[float]:
    """One monthly figure or twelve (Jan…Dec); negative or missing values are refused."""
    months = [float(consumption)] if isinstance(consumption, int | float) else [float(c) for c in consumption]
    if len(months) not in (1, 12):
        raise ValueError(f"consumption needs 1 or 12 monthly figures, got {len(months)}")
    if any(month < 0 for month in months):
        raise ValueError("consumption cannot be negative")
    return months


def minimum_bill_kwh(connection: ConnectionKind, params: SizingParameters) -> float:
    return params.minimum_bill_kwh[connection]


def offset_kwh_month(consumption: Consumption, connection: ConnectionKind, params: SizingParameters) -> float:
    """Average over the months given of max(0, month − minimum bill): a month below the minimum offers
    nothing to offset, and its shortfall does not make another month's minimum smaller."""
    minimum = minimum_bill_kwh(connection, params)
    months = monthly_figures(consumption)
    return sum(max(0.0, month - minimum) for month in months) / len(months)


def generation_kwh_month(kwp: float, hsp: float, params: SizingParameters) -> float:
    """E_month = kWp × HSP × days × PR."""
    return kwp * hsp * params.days_per_month * params.performance_ratio


def kwp_for(energy_kwh_month: float, hsp: float, params: SizingParameters) -> float:
    """kWp = energy / (HSP × days × PR)."""
    if hsp <= 0:
        raise ValueError(f"HSP must be positive, got {hsp}")
    return energy_kwh_month / (hsp * params.days_per_month * params.performance_ratio)


def size_system(
    consumption: Consumption,
    hsp: float,
    connection: ConnectionKind,
    params: SizingParameters,
    monthly_hsp: Sequence[float] | None = None,
) -> SizingResult:
    """The kWp that offsets the consumption above the minimum bill at this site's HSP.

    `monthly_hsp` (12 values, Jan…Dec, from the Atlas) only adds the month-by-month generation; the size
    follows the annual HSP, since credits carry sunny months into cloudy ones.
    """
    months = monthly_figures(consumption)
    offset = offset_kwh_month(months, connection, params)
    kwp = kwp_for(offset, hsp, params)
    by_month = None
    if monthly_hsp is not None:
        if len(monthly_hsp) != 12:
            raise ValueError(f"monthly_hsp needs 12 values, got {len(monthly_hsp)}")
        by_month = [generation_kwh_month(kwp, month_hsp, params) for month_hsp in monthly_hsp]
    return SizingResult(
        consumption_kwh_month=sum(months) / len(months),
        minimum_bill_kwh=minimum_bill_kwh(connection, params),
        offset_kwh_month=offset,
        hsp=hsp,
        performance_ratio=params.performance_ratio,
        days_per_month=params.days_per_month,
        kwp_needed=kwp,
        expected_generation_kwh_month=generation_kwh_month(kwp, hsp, params),
        monthly_generation_kwh=by_month,
    )
