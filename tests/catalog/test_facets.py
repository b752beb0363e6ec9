"""Power bands: the storefront panel's ranges, one per product of a banded category."""

from __future__ import annotations

import pytest

from catalog.facets import POWER_BANDS, power_band


@pytest.mark.parametrize(
    ("category", "power_w", "band"),
    [
        ("module", 400, "até 400 W"),
        ("module", 400.5, "401–500 W"),
        ("module", 550, "501–600 W"),
        ("module", 700, "acima de 600 W"),
        ("inverter", 5000, "até 5 kW"),
        ("inverter", 75000, "acima de 30 kW"),
        ("hybrid_inverter", 12000, "acima de 10 kW"),
        ("microinverter", 2250, "acima de 1 kW"),
        ("kit", 5150, "3–6 kWp"),
    ],
)
def test_each_power_falls_in_its_band(category: str, power_w: float, band: str) -> None:
    assert power_band(category, power_w) == band


@pytest.mark.parametrize(("category", "power_w"), [("cable", 10.0), ("module", None), ("module", 0.0)])
def test_no_band_without_bands_or_power(category: str, power_w: float | None) -> None:
    assert power_band(category, power_w) is None


def test_every_category_ends_with_an_open_band() -> None:
    for bands in POWER_BANDS.values():
        uppers = [upper for upper, _ in bands]
        assert uppers == sorted(uppers) and uppers[-1] == float("inf")
