"""Price-table instalments and financing options from the dated lines."""

from __future__ import annotations

from datetime import date

import pytest

from solar.financing import financing_options, price_instalment
from solar.parameters import FinancingLine, SolarParameters


@pytest.mark.parametrize(
    ("principal", "rate", "months", "instalment"),
    [
        (10_000, 0.01, 12, 888.49),  # 100 / (1 − 1.01^−12)
        (20_000, 0.015, 60, 507.87),
        (12_000, 0.0, 12, 1000.00),  # no interest
        (5_000, 0.02, 1, 5100.00),  # one payment: principal plus a month's interest
    ],
)
def test_price_instalment(principal: float, rate: float, months: int, instalment: float) -> None:
    assert price_instalment(principal, rate, months) == pytest.approx(instalment, abs=0.005)


def test_price_instalment_needs_a_term() -> None:
    with pytest.raises(ValueError):
        price_instalment(1000, 0.01, 0)


def test_options_against_savings() -> None:
    lines = [
        FinancingLine(lender="A", product="x", monthly_rate_pct=1.5, term_months=60, date=date(2026, 10, 1)),
        FinancingLine(lender="B", product="y", monthly_rate_pct=1.0, term_months=12, date=date(2025, 1, 1)),
    ]
    options = financing_options(20_000, 600.0, lines, on=date(2026, 11, 24), stale_after_days=180)
    assert [o.lender for o in options] == ["A", "B"]  # lowest instalment first: 507.87 < 1776.98
    a, b = options
    assert a.instalment_brl == pytest.approx(507.87) and a.total_paid_brl == pytest.approx(
        30_472.11, abs=0.01
    )
    assert a.savings_minus_instalment_brl == pytest.approx(92.13) and not a.stale
    assert b.instalment_brl == pytest.approx(1776.98, abs=0.01) and b.stale  # checked 692 days earlier
    assert b.savings_minus_instalment_brl < 0


def test_shipped_lines_make_options(params: SolarParameters) -> None:
    options = financing_options(
        25_000,
        500.0,
        params.financing,
        on=date(2026, 11, 24),
        stale_after_days=params.finance.financing_stale_after_days,
    )
    assert len(options) == len(params.financing)
    assert all(o.instalment_brl > 25_000 / o.term_months for o in options if o.monthly_rate_pct > 0)
