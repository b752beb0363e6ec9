"""What goes with a product, on the hand-made catalog (tests/solar/hand_catalog.py), site 0/40 °C."""

from __future__ import annotations

import pytest

from solar.compatibility import Compatibility, NotAnAnchor, compatible_with, pair_fit
from solar.equipment import EquipmentIndex
from solar.parameters import SiteTemperatures, SolarParameters
from tests.solar.hand_catalog import MODULE_SPECS, SITE, catalog

INDEX = EquipmentIndex.build(catalog())


def ids(products: list) -> list[str]:  # type: ignore[type-arg]
    return [product.product_id for product in products]


def compatible(params: SolarParameters, product_id: str, index: EquipmentIndex = INDEX) -> Compatibility:
    return compatible_with(index, product_id, SITE, params, limit=10)


def test_a_module_gets_inverters_micros_and_balance_of_system(params: SolarParameters) -> None:
    result = compatible(params, "M1")
    assert ids(result.inverters) == ["I3", "I1"]  # cheapest first; connection is the quote's business
    assert "4–18 modules in series" in result.inverters[1].why
    assert ids(result.microinverters) == ["U1"]
    assert ids(result.structures) == ["S1", "S2"]  # one per roof type
    assert ids(result.string_boxes) == ["B2", "B1"]  # both rated for the module's 13.2 A
    assert ids(result.cables) == ["C1"]  # C2's 2.5 mm² is below the minimum section
    assert result.modules == []


@pytest.mark.parametrize(
    ("product_id", "modules", "boxes", "cables"),
    [
        ("I1", ["M1", "M2"], ["B1"], ["C1"]),  # B2's 500 V is below the inverter's 1000 V maximum
        ("U1", ["M1", "M2"], [], []),  # microinverters: one module per input, no DC string box
    ],
)
def test_an_inverter_gets_modules(
    params: SolarParameters, product_id: str, modules: list[str], boxes: list[str], cables: list[str]
) -> None:
    result = compatible(params, product_id)
    assert ids(result.modules) == modules  # cheapest per Wp first
    assert ids(result.string_boxes) == boxes
    assert ids(result.cables) == cables
    assert result.inverters == result.microinverters == []


def test_a_module_too_hot_for_the_micro_is_left_out(params: SolarParameters) -> None:
    index = EquipmentIndex.build(catalog(M1={"specs": MODULE_SPECS | {"voc_v": 70.0}}))
    assert ids(compatible(params, "M1", index).microinverters) == []
    assert ids(compatible(params, "U1", index).modules) == ["M2"]


def test_a_colder_site_shortens_the_strings(params: SolarParameters) -> None:
    cold = compatible_with(INDEX, "M1", SiteTemperatures(min_c=-30, max_c=40), params, limit=10)
    assert "4–16 modules in series" in cold.inverters[1].why  # cold Vmp 50.3 V: 16 × 50.3 ≤ 850 V MPPT max


def test_limit_caps_each_group(params: SolarParameters) -> None:
    assert ids(compatible_with(INDEX, "M1", SITE, params, limit=1).inverters) == ["I3"]


def test_only_modules_and_inverters_anchor(params: SolarParameters) -> None:
    with pytest.raises(NotAnAnchor, match="structure"):
        compatible(params, "S1")
    with pytest.raises(KeyError):
        compatible(params, "nope")


@pytest.mark.parametrize(("module", "inverter"), [("M1", "I1"), ("I1", "M1"), ("M1", "U1"), ("M2", "I3")])
def test_a_pair_agrees_with_the_compatible_list(params: SolarParameters, module: str, inverter: str) -> None:
    fit = pair_fit(INDEX, module, inverter, SITE, params)
    anchor = fit.module.id
    listed = compatible(params, anchor)
    assert fit.fits is (fit.inverter.id in ids([*listed.inverters, *listed.microinverters]))


def test_a_pair_says_the_numbers_that_decide(params: SolarParameters) -> None:
    string = pair_fit(INDEX, "M1", "I1", SITE, params)
    assert (string.micro, string.fits, string.fewest_in_series, string.most_in_series) == (False, True, 4, 18)
    micro = pair_fit(INDEX, "U1", "M1", SITE, params)
    assert micro.micro and micro.fits and micro.inputs >= 1 and micro.dc_ac_ratio > 0


def test_a_pair_is_one_module_and_one_inverter(params: SolarParameters) -> None:
    with pytest.raises(NotAnAnchor, match="one module with one inverter"):
        pair_fit(INDEX, "M1", "M2", SITE, params)
    with pytest.raises(KeyError):
        pair_fit(INDEX, "M1", "nope", SITE, params)
