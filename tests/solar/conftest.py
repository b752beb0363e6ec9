"""Parameters for the solar tests: the shipped defaults, and round numbers for hand-computed tables."""

from __future__ import annotations

import pytest

from solar.parameters import SolarParameters, load_parameters


@pytest.fixture(scope="session")
def params() -> SolarParameters:
    return load_parameters()


@pytest.fixture(scope="session")
def round_params() -> SolarParameters:
    """PR 0.8, 30 days, no inflation or discounting, no self-consumption: easy arithmetic by hand."""
    return load_parameters(
        overrides={
            "sizing": {"performance_ratio": 0.8, "days_per_month": 30},
            "finance": {
                "tariff_inflation_per_year": 0.0,
                "discount_rate_per_year": 0.0,
                "self_consumption_share": 0.0,
                "degradation_per_year": 0.0,
                "inverter_replacement_share": 0.0,
                "pis_cofins": 0.0,
                "years": 25,
            },
        }
    )
