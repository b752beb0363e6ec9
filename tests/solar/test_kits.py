"""Kit composition and ranking on a small hand-made catalog, with hand-computed prices.

Need: 5.5 kWp, ceramic roof, single-phase 220 V, site 0/40 °C. Module M1 550 W at R$ 440 → 10 modules,
one string of 10 on the 5 kW inverter I1 (DC/AC 1.10). Composed price:
  10 × 440 (modules) + 4000 (inverter) + 3 × 200 (ceramic structure for 4 modules) + 500 (string box)
  + 1 × 300 (a 50 m cable roll covers 30 m for one string) = 9800 → 9800 / 5500 = 1.7818 R$/Wp.
  (The R$ 100 box B2 is rated 500 V: below the string's cold Voc, 10 × 52.84 = 528.4 V.)
Micro option: 10 × 440 + 10 × 700 (micro U1) + 600 = 12000 → 2.1818 R$/Wp.
Pre-built kit K1 (10 × M1 + I1, ceramic): R$ 9000 → 1.6364 R$/Wp.
"""

from __future__ import annotations

from typing import Any

import pytest

from kernel.schemas import Offer, Product
from solar.connection import GridConnection
from solar.equipment import EquipmentIndex
from solar.kit_options import KitNeed, KitOption, power_check
from solar.kits import KitSearchResult, compose_kits
from solar.offers import catalog_items
from solar.parameters import SolarParameters
from tests.solar.hand_catalog import MODULE_SPECS, SITE, catalog


def need(**changes: Any) -> KitNeed:
    values: dict[str, Any] = {
        "kwp": 5.5,
        "roof_type": "ceramico",
        "site": SITE,
        "connection": GridConnection(kind="mono", phase_voltage_v=220),
    } | changes
    return KitNeed(**values)


def search(
    params: SolarParameters, items: list[dict[str, Any]] | None = None, **need_changes: Any
) -> KitSearchResult:
    return compose_kits(EquipmentIndex.build(items or catalog()), need(**need_changes), params)


def test_options_are_ranked_by_price_per_wp(params: SolarParameters) -> None:
    options = search(params).options
    assert [o.price_per_wp for o in options] == sorted(o.price_per_wp for o in options)
    best = options[0]
    assert (best.kind, best.total_price_brl, best.price_per_wp) == (
        "prebuilt",
        9000.0,
        pytest.approx(1.6364, abs=1e-4),
    )
    composed = next(o for o in options if o.kind == "composed")
    assert composed.total_price_brl == pytest.approx(9800.0)
    assert composed.price_per_wp == pytest.approx(1.7818, abs=1e-4)
    assert [(line.model, line.quantity) for line in composed.lines] == [
        ("M1", 10),
        ("I1", 1),
        ("S1", 3),
        ("B1", 1),
        ("C1", 1),
    ]
    assert composed.layout is not None and (composed.layout.modules_in_series, composed.layout.strings) == (
        10,
        1,
    )
    assert composed.dc_ac_ratio == pytest.approx(1.1)
    micro = next(o for o in options if o.kind == "microinverter")
    assert micro.total_price_brl == pytest.approx(12000.0)


def test_every_option_states_its_checks_and_passes_them(params: SolarParameters) -> None:
    options = search(params).options
    composed = next(o for o in options if o.kind == "composed")
    assert {c.name for c in composed.checks} == {
        "power",
        "voc_cold_below_max_dc_voltage",
        "vmp_hot_above_mppt_min",
        "vmp_cold_below_mppt_max",
        "string_current_below_mppt_max",
        "dc_ac_ratio",
        "ac_voltage",
        "phases",
    }
    assert all(check.ok for option in options for check in option.checks)
    assert all(check.detail for option in options for check in option.checks)


def composed_options(result: KitSearchResult) -> list[KitOption]:
    return [o for o in result.options if o.kind == "composed"]


def models(option: KitOption) -> list[str]:
    return [line.model for line in option.lines]


def test_a_box_rated_for_the_string_voltage_is_used_when_cheaper(params: SolarParameters) -> None:
    result = search(params, catalog(B2={"specs": {"string_inputs": 2, "max_dc_voltage_v": 600}}))
    best = composed_options(result)[0]
    assert "B2" in models(best) and best.total_price_brl == pytest.approx(9400.0)  # 9800 − 500 + 100


@pytest.mark.parametrize(
    ("connection", "inverters"),
    [
        (GridConnection(kind="mono", phase_voltage_v=220), {"I1"}),
        (GridConnection(kind="mono", phase_voltage_v=127), set()),  # no 127 V inverter in the catalog
        (GridConnection(kind="tri", phase_voltage_v=220), {"I1", "I3"}),  # 220/380 V: both fit
        (GridConnection(kind="tri", phase_voltage_v=127), {"I1"}),  # 127/220 V: no 380 V
    ],
)
def test_inverters_follow_the_connection(
    params: SolarParameters, connection: GridConnection, inverters: set[str]
) -> None:
    used = {models(o)[1] for o in composed_options(search(params, connection=connection))}
    assert used == inverters


def test_roof_type_picks_the_structure(params: SolarParameters) -> None:
    result = search(params, roof_type="Metálico")
    composed = composed_options(result)[0]
    assert "S2" in models(composed) and composed.total_price_brl == pytest.approx(9800.0)  # 10 × 60 = 3 × 200
    assert all(o.kind != "prebuilt" for o in result.options)  # K1 is for ceramic roofs


def test_no_structure_for_the_roof(params: SolarParameters) -> None:
    result = search(params, roof_type="solo")
    assert result.options == []
    assert any("solo" in note for note in result.notes)


def test_stock_must_cover_the_quantity(params: SolarParameters) -> None:
    result = search(params, catalog(M1={"stock": 9}))  # 10 needed
    composed = composed_options(result)[0]
    assert models(composed)[0] == "M2" and composed.total_price_brl == pytest.approx(9800 + 10 * 110)


def test_lead_time_breaks_price_ties(params: SolarParameters) -> None:
    result = search(params, catalog(M2={"price_brl": 440.0, "lead_time_days": 30}))
    first, second = composed_options(result)[:2]
    assert first.price_per_wp == second.price_per_wp
    assert (models(first)[0], first.lead_time_days) == ("M1", 2)
    assert (models(second)[0], second.lead_time_days) == ("M2", 30)


def test_module_candidates_are_capped(params: SolarParameters) -> None:
    capped = params.model_copy(update={"kits": params.kits.model_copy(update={"max_module_candidates": 1})})
    result = search(capped, catalog(M2={"price_brl": 441.0}))
    assert {models(o)[0] for o in result.options if o.kind != "prebuilt"} == {"M1"}


@pytest.mark.parametrize(
    ("dc_w", "need_w", "unit_w", "ok"),
    [
        (5500, 5500, 550, True),
        (6875, 5500, 550, True),  # 1.25 × need: the top of the window
        (7150, 5500, 550, False),  # 1.30 × need, and two modules less would still cover it
        (2200, 1000, 550, False),  # 4 modules for 1 kWp: far more than one module of rounding
        (1100, 1000, 550, True),  # 2 modules for 1 kWp: above 1.25 ×, but one module less falls short
        (5200, 5500, 550, False),  # 0.945 × need: below the window
        (5225, 5500, 0.0, True),  # 0.95 ×: a pre-built kit at the bottom of the window
        (7000, 5500, 0.0, False),  # a pre-built kit 1.27 × the need
    ],
)
def test_power_window(params: SolarParameters, dc_w: float, need_w: float, unit_w: float, ok: bool) -> None:
    assert power_check(dc_w, need_w, unit_w, params.kits).ok is ok


@pytest.mark.parametrize(
    ("kwp", "why"),
    [
        (3.0, "6 × 550 W = 3.3 kWp on a 5 kW inverter: DC/AC 0.66"),
        (7.0, "13 × 550 W = 7.15 kWp on one 5 kW inverter: DC/AC 1.43; on two: 0.72"),
    ],
)
def test_dc_ac_window_excludes_inverters(params: SolarParameters, kwp: float, why: str) -> None:
    result = search(params, kwp=kwp)
    assert composed_options(result) == [], why
    assert {o.kind for o in result.options} == {"microinverter"}  # K1 (5.5 kWp) is outside the power window


def test_current_above_the_mppt_limit_excludes_the_inverter(params: SolarParameters) -> None:
    hot_module = MODULE_SPECS | {"imp_a": 16.5, "isc_a": 17.0}
    result = search(params, catalog(M1={"specs": hot_module}, M2={"specs": hot_module}))
    assert composed_options(result) == []  # 16.5 A > 16 A per MPPT
    assert all(o.kind != "prebuilt" for o in result.options)  # K1 fails the same check


def test_prebuilt_kit_with_unknown_parts_is_not_offered(params: SolarParameters) -> None:
    unknown = {
        "power_w": 5500,
        "roof_type": "ceramico",
        "components": [
            {"category": "module", "brand": "Other", "model": "X", "quantity": 10},
            {"category": "inverter", "brand": "Acme", "model": "I1", "quantity": 1},
        ],
    }
    result = search(params, catalog(K1={"specs": unknown}))
    assert all(o.kind != "prebuilt" for o in result.options)


def test_index_keeps_why_items_were_left_out() -> None:
    items = catalog(M2={"specs": {"power_w": 550}}, I3={"stock": 0}, C2={"price_brl": None})
    index = EquipmentIndex.build(items)
    assert index.skipped["module: voc_v missing or not a number"] == 1
    assert index.skipped["inverter: no priced offer in stock"] == 1
    assert index.skipped["cable: no priced offer in stock"] == 1
    assert [m.listing.model for m in index.modules] == ["M1"]


def test_catalog_rows_join_into_items() -> None:
    products = [
        Product(id="p1", category="module", brand="Acme", model="M1", title="M1 550 W", specs=MODULE_SPECS)
    ]
    offers = [
        Offer(product_id="p1", distributor="d1", sku="a", price_brl=450.0, stock=3, lead_time_days=1),
        Offer(product_id="p1", distributor="d2", sku="b", price_brl=440.0, stock=50, lead_time_days=9),
        Offer(product_id="p2", distributor="d2", sku="c", price_brl=1.0, stock=1, lead_time_days=0),
    ]
    (only,) = catalog_items(products, offers)
    index = EquipmentIndex.build([only])
    listing = index.modules[0].listing
    assert [o.sku for o in listing.offers] == ["b", "a"]  # cheapest first
    assert listing.offer_for(10) == listing.offers[0] and listing.offer_for(51) is None


def test_cable_rolls_cover_the_run(params: SolarParameters) -> None:
    result = search(params, catalog(C1={"specs": {"section_mm2": 6, "length_m": 20}}))
    composed = composed_options(result)[0]
    assert composed.lines[-1].model == "C1" and composed.lines[-1].quantity == 2  # 30 m from 20 m rolls
    assert composed.total_price_brl == pytest.approx(10100.0)


def test_prebuilt_kit_needs_a_layout_of_exactly_its_modules(params: SolarParameters) -> None:
    """19 modules on 2 × I1: 19 is prime and 19 in series is too long, so no equal strings hold 19."""
    odd: dict[str, Any] = {
        "power_w": 10450,
        "roof_type": "ceramico",
        "components": [
            {"category": "module", "brand": "Acme", "model": "M1", "quantity": 19},
            {"category": "inverter", "brand": "Acme", "model": "I1", "quantity": 2},
        ],
    }
    result = search(params, catalog(K1={"specs": odd}), kwp=10.45)
    assert result.options and all(o.kind != "prebuilt" for o in result.options)
    even = odd | {
        "power_w": 11000,
        "components": [odd["components"][0] | {"quantity": 20}, odd["components"][1]],
    }
    result = search(params, catalog(K1={"specs": even}), kwp=10.45)
    assert any(o.kind == "prebuilt" for o in result.options)


def test_requests_on_one_index_share_what_does_not_depend_on_them(params: SolarParameters) -> None:
    """The balance of system of a roof and the inverters of a connection are built once per snapshot;
    every request answers as it would on a fresh index, whatever ran before it."""
    index = EquipmentIndex.build(catalog())
    asked = [
        need(),
        need(roof_type="metalico"),
        need(connection=GridConnection(kind="tri", phase_voltage_v=220)),
        need(kwp=3.3),
        need(),
    ]
    answers = [compose_kits(index, wanted, params) for wanted in asked]
    assert answers == [compose_kits(EquipmentIndex.build(catalog()), wanted, params) for wanted in asked]
    assert answers[0] == answers[-1]
    kinds = sorted(key[0] for key in index._shared)
    assert kinds == ["bos", "bos", "inverters", "inverters"]  # two roofs, two connections
