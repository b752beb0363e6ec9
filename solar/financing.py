"""Financing lines (dated, from `financiamento.yaml`) turned into monthly instalments to set against savings.

Instalments follow the Price table (French amortisation: equal payments):
`PMT = P × i / (1 − (1 + i)^−n)` with the monthly rate i and n months; `P / n` when i = 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from solar.parameters import FinancingLine


class FinancingOption(BaseModel):
    model_config = ConfigDict(frozen=True)

    lender: str
    product: str
    monthly_rate_pct: float
    term_months: int
    terms_date: date = Field(description="When the line's terms were checked.")
    stale: bool = Field(description="Terms older than the configured limit: confirm with the lender.")
    instalment_brl: float
    total_paid_brl: float
    monthly_savings_brl: float
    savings_minus_instalment_brl: float = Field(description="Positive: the savings pay the instalment.")


def price_instalment(principal: float, monthly_rate: float, months: int) -> float:
    """Equal monthly payment that repays `principal` in `months` at `monthly_rate` (0.015 = 1.5 % a.m.)."""
    if months < 1:
        raise ValueError("months must be at least 1")
    if monthly_rate == 0:
        return principal / months
    return principal * monthly_rate / (1 - (1 + monthly_rate) ** -months)


def financing_options(
    principal_brl: float,
    monthly_savings_brl: float,
    lines: Sequence[FinancingLine],
    *,
    on: date,
    stale_after_days: int,
) -> list[FinancingOption]:
    """Every line's instalment for the amount financed, lowest instalment first."""
    options = []
    for line in lines:
        instalment = price_instalment(principal_brl, line.monthly_rate_pct / 100, line.term_months)
        options.append(
            FinancingOption(
                lender=line.lender,
                product=line.product,
                monthly_rate_pct=line.monthly_rate_pct,
                term_months=line.term_months,
                terms_date=line.date,
                stale=(on - line.date).days > stale_after_days,
                instalment_brl=round(instalment, 2),
                total_paid_brl=round(instalment * line.term_months, 2),
                monthly_savings_brl=round(monthly_savings_brl, 2),
                savings_minus_instalment_brl=round(monthly_savings_brl - instalment, 2),
            )
        )
    return sorted(options, key=lambda o: (o.instalment_brl, o.lender, o.product))
