"""A cart reviewed as a system, on the hand-made catalog (tests/solar/hand_catalog.py).

At 0/40 °C the 550 W module strings 4–18 in series on I1 (one string per MPPT, 2 MPPTs): 10 × M1 on I1
is one string of 10. Completing it takes 3 × S1 (4 modules each), the 1000 V box B1 (B2's 500 V is
below 10 × 52.84 V cold Voc) and one 50 m roll of C1 (30 m per string): 4400 + 4000 + 600 + 500 + 300.
"""

from __future__ import annotations

from typing import Any

import pytest

from solar.connection import GridConnection
from solar.equipment import EquipmentIndex
from solar.parameters import SolarParameters
from solar.quote import CartReview, QuoteNeed, UnknownProducts, exact_layout, review_cart
from tests.solar.hand_catalog import MODULE_SPECS, SITE, catalog

INDEX = EquipmentIndex.build(catalog())
MONO = GridConnection(kind="mono", phase_voltage_v=220)


def review(params: SolarParameters, cart: list[tuple[str, int]], **need: Any) -> CartReview:
    values: dict[str, Any] = {"site": SITE, "roof_type": "ceramico"} | need
    return review_cart(INDEX, cart, QuoteNeed(**values), params)


def failing(result: CartReview) -> set[str]:
    return {check.name for check in result.checks if not check.ok}


def suggested(result: CartReview) -> dict[str, int]:
    return {s.line.product_id: s.line.quantity for s in result.suggestions}


def test_modules_and_inverter_are_completed_and_priced(params: SolarParameters) -> None:
    result = review(params, [("M1", 10), ("I1", 1)], connection=MONO, kwp_needed=5.5)
    assert failing(result) == set()
    assert {c.name for c in result.checks} >= {
        "voc_cold_below_max_dc_voltage",
        "vmp_hot_above_mppt_min",
        "dc_ac_ratio",
        "ac_voltage",
        "phases",
        "power",
        "stock",
    }
    assert suggested(result) == {"S1": 3, "B1": 1, "C1": 1}
    assert result.strings == 1
    assert result.total_brl == 8400.0
    assert result.total_with_suggestions_brl == 9800.0
    assert [line.unit_price_brl for line in result.lines] == [440.0, 4000.0]


@pytest.mark.parametrize(
    ("cart", "need", "suggestions"),
    [
        ([("M1", 10)], {}, {"I3": 1, "S1": 3, "B1": 1, "C1": 1}),  # cheapest inverter, any connection
        ([("M1", 10)], {"connection": MONO}, {"I1": 1, "S1": 3, "B1": 1, "C1": 1}),  # only I1 is 220 V mono
        ([("I1", 1)], {}, {"M1": 11, "S1": 3, "B1": 1, "C1": 1}),  # DC/AC window midpoint: 5.875 kWp
        ([("I1", 1)], {"kwp_needed": 5.5}, {"M1": 10, "S1": 3, "B1": 1, "C1": 1}),
        ([("M1", 10), ("I1", 1), ("S1", 3), ("B1", 1), ("C1", 1)], {}, {}),  # complete: nothing to add
        ([("M1", 2), ("U1", 2)], {}, {"S1": 1}),  # microinverters: no string box, no DC cable
    ],
)
def test_missing_parts_are_suggested(
    params: SolarParameters, cart: list[tuple[str, int]], need: dict[str, Any], suggestions: dict[str, int]
) -> None:
    result = review(params, cart, **need)
    assert suggested(result) == suggestions
    assert failing(result) == set()


@pytest.mark.parametrize(
    ("cart", "need", "fails"),
    [
        # 19 is prime and over 18 in series: no equal strings; DC/AC 10.45/5 too.
        ([("M1", 19), ("I1", 1)], {}, {"string_layout", "dc_ac_ratio"}),
        # 40 modules on 2 MPPTs: strings of 20 break the cold-Voc limit (20 × 52.84 V > 1000 V).
        ([("M1", 40), ("I1", 1)], {}, {"string_layout", "voc_cold_below_max_dc_voltage", "dc_ac_ratio"}),
        ([("M1", 10), ("I3", 1)], {"connection": MONO}, {"ac_voltage", "phases"}),
        ([("M1", 4), ("I1", 1)], {"kwp_needed": 5.5}, {"dc_ac_ratio", "power"}),
        ([("M1", 600), ("I1", 1)], {}, {"stock", "string_layout", "voc_cold_below_max_dc_voltage"}),
        ([("M1", 10), ("M2", 10), ("I1", 1)], {}, {"one_model_each"}),
        ([("M1", 4), ("U1", 2)], {}, {"micro_inputs"}),
    ],
)
def test_what_does_not_work_is_said(
    params: SolarParameters, cart: list[tuple[str, int]], need: dict[str, Any], fails: set[str]
) -> None:
    assert failing(review(params, cart, **need)) >= fails


def test_the_modules_for_the_nearest_layout_are_suggested(params: SolarParameters) -> None:
    result = review(params, [("M1", 19), ("I1", 1)])
    assert suggested(result)["M1"] == 1  # two strings of 10
    assert "nearest: 2 string(s) of 10" in next(c.detail for c in result.checks if c.name == "string_layout")


def test_more_microinverters_are_suggested(params: SolarParameters) -> None:
    assert suggested(review(params, [("M1", 4), ("U1", 2)]))["U1"] == 2


def test_out_of_stock_line_is_kept_unpriced(params: SolarParameters) -> None:
    line = review(params, [("M1", 600)]).lines[0]
    assert (line.available, line.unit_price_brl, line.total_brl) == (False, None, None)


def test_the_same_product_twice_counts_once(params: SolarParameters) -> None:
    result = review(params, [("M1", 4), ("M1", 6)])
    assert [(line.product_id, line.qty) for line in result.lines] == [("M1", 10)]


def test_unknown_products_are_named(params: SolarParameters) -> None:
    with pytest.raises(UnknownProducts) as raised:
        review(params, [("M1", 1), ("nope", 1), ("gone", 2)])
    assert raised.value.product_ids == ["nope", "gone"]


def test_a_cart_without_a_system_says_so(params: SolarParameters) -> None:
    result = review(params, [("C1", 2)])
    assert result.checks == [result.checks[0]] and result.checks[0].name == "stock"
    assert result.notes == ["no module, inverter or kit in the cart: nothing to check as a system"]


@pytest.mark.parametrize(
    ("modules", "series"), [(10, 10), (12, 12), (20, 10), (36, 18), (19, None), (37, None)]
)
def test_exact_layout_uses_every_module(params: SolarParameters, modules: int, series: int | None) -> None:
    module, inverter = INDEX.parts_by_id["M1"], INDEX.parts_by_id["I1"]
    layout = exact_layout(module, inverter, 1, modules, SITE, params)  # type: ignore[arg-type]
    assert (layout.modules_in_series if layout else None) == series
    assert layout is None or layout.modules == modules


def test_hot_modules_are_refused_by_the_string_checks(params: SolarParameters) -> None:
    index = EquipmentIndex.build(catalog(M1={"specs": MODULE_SPECS | {"imp_a": 16.5, "isc_a": 17.0}}))
    result = review_cart(index, [("M1", 10), ("I1", 1)], QuoteNeed(site=SITE, roof_type="ceramico"), params)
    assert "string_current_below_mppt_max" in failing(result)
