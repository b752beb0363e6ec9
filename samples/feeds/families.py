"""Synthetic product families: every model a brand's naming scheme gives over the axes in market.yaml.

Hybrid inverters borrow the DC side (voltage limits, MPPT window) of the string inverter nearest in power
(today's lines first, then the CEC ones); the rest are made up from common Brazilian catalog values.
`specs` keys that are not canonical (module_slots, color, …) only shape titles and kits: no feed has a
column for them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from itertools import product
from typing import Any

from samples.feeds.market import Market, SampleProduct, SpecItem


def _price(rng: random.Random, low_high: tuple[float, float], quantity: float = 1.0) -> float:
    return round(rng.uniform(*low_high) * quantity, 2)


def hybrid_inverters(
    rng: random.Random, market: Market, string_inverters: list[SpecItem]
) -> list[SampleProduct]:
    """`string_inverters`: the DC side donors, the preferred first among those as near in power."""
    family, items = market.families.hybrid_inverter, []
    donors = {
        kw: min(string_inverters, key=lambda item: abs(item.specs["power_w"] - kw * 1000)).specs
        for kw in family.power_kw
    }
    for (brand, prefix), kw, battery_v, generation in product(
        family.brands.items(), family.power_kw, family.battery_voltage_v, family.generation
    ):
        if battery_v < 100 and kw > family.low_voltage_max_kw:
            continue
        donor = donors[kw]
        three_phase = kw > 8
        specs = {
            **{
                key: donor[key]
                for key in ("max_dc_voltage_v", "mppt_low_v", "mppt_high_v", "max_dc_current_a")
            },
            "power_w": kw * 1000,
            "max_dc_power_w": round(kw * 1300),
            "mppt_count": 2 if kw <= 6 else 3,
            "ac_voltage_v": 380.0 if three_phase else 220.0,
            "phases": 3 if three_phase else 1,
            "voltage_v": float(battery_v),
        }
        model = f"{prefix}{kw:g}K-{generation}{'LV' if battery_v < 100 else 'HV'}"
        price = _price(rng, market.price_range("hybrid_inverter_per_w"), kw * 1000)
        items.append(SampleProduct("hybrid_inverter", brand, model, specs, price))
    return items


def batteries(rng: random.Random, market: Market) -> list[SampleProduct]:
    family, items = market.families.battery, []
    for (brand, prefix), kwh, volts, variant in product(
        family.lithium.items(), family.lithium_kwh, family.lithium_voltage_v, family.variants
    ):
        specs = {"capacity_kwh": kwh, "voltage_v": volts, "chemistry": "lifepo4"}
        model = f"{prefix}{kwh * 1000:.0f}-{variant}{volts:g}"
        price = _price(rng, market.price_range("battery_per_kwh", "lifepo4"), kwh)
        items.append(SampleProduct("battery", brand, model, specs, price))
    for (brand, prefix), amp_hours in product(family.lead_acid.items(), family.lead_acid_ah):
        kwh = round(12 * amp_hours / 1000, 2)
        specs = {"capacity_kwh": kwh, "voltage_v": 12.0, "chemistry": "lead_acid", "amp_hours": amp_hours}
        price = _price(rng, market.price_range("battery_per_kwh", "lead_acid"), kwh)
        items.append(SampleProduct("battery", brand, f"{prefix}{amp_hours}", specs, price))
    return items


def charge_controllers(rng: random.Random, market: Market) -> list[SampleProduct]:
    family, items = market.families.charge_controller, []
    for (brand, prefix), kind, amps, volts, pv_volts in product(
        family.brands.items(),
        family.types,
        family.current_a,
        family.system_voltage_v,
        family.max_pv_voltage_v,
    ):
        specs: dict[str, Any] = {
            "max_dc_current_a": float(amps),
            "voltage_v": float(volts),
            "max_dc_voltage_v": float(pv_volts),
            "controller_type": kind,
        }
        price = _price(rng, market.price_range("charge_controller_per_a", kind), amps)
        items.append(
            SampleProduct(
                "charge_controller", brand, f"{prefix}{kind}{amps}-{volts}-{pv_volts}", specs, price
            )
        )
    return items


def structures(rng: random.Random, market: Market) -> list[SampleProduct]:
    family, items = market.families.structure, []
    for (brand, prefix), (roof, code), slots, orientation, material in product(
        family.brands.items(), family.roof_types.items(), family.modules, family.orientation, family.material
    ):
        specs = {"roof_type": roof, "module_slots": slots, "orientation": orientation, "material": material}
        model = f"{prefix}{code}-{slots}M-{orientation}-{material}"
        price = _price(rng, market.price_range("structure_per_module"), slots)
        items.append(SampleProduct("structure", brand, model, specs, price))
    return items


def string_boxes(rng: random.Random, market: Market) -> list[SampleProduct]:
    family, items = market.families.string_box, []
    for (brand, prefix), inputs, outputs, volts, amps in product(
        family.brands.items(), family.inputs, family.outputs, family.max_voltage_v, family.current_a
    ):
        specs = {
            "string_inputs": inputs,
            "outputs": outputs,
            "max_dc_voltage_v": float(volts),
            "max_dc_current_a": float(amps),
        }
        price = round(
            _price(rng, market.price_range("string_box_base"))
            + _price(rng, market.price_range("string_box_per_input"), inputs),
            2,
        )
        model = f"{prefix}{inputs}E{outputs}S-{volts}V-{amps}A"
        items.append(SampleProduct("string_box", brand, model, specs, price))
    return items


def cables(rng: random.Random, market: Market) -> list[SampleProduct]:
    family, items = market.families.cable, []
    for (brand, prefix), section, (color_code, color), length, kilovolts in product(
        family.brands.items(), family.section_mm2, family.colors.items(), family.length_m, family.voltage_kv
    ):
        specs = {"section_mm2": section, "length_m": float(length), "color": color, "voltage_kv": kilovolts}
        price = _price(rng, market.price_range("cable_per_m_per_mm2"), length * section)
        model = f"{prefix}{section:g}MM-{color_code}-{length}M-{kilovolts:g}KV"
        items.append(SampleProduct("cable", brand, model, specs, price))
    return items


def connectors(rng: random.Random, market: Market) -> list[SampleProduct]:
    family, items = market.families.connector, []
    for (brand, prefix), (code, kind), section, volts in product(
        family.brands.items(), family.types.items(), family.section_mm2, family.max_voltage_v
    ):
        specs = {"max_dc_voltage_v": float(volts), "connector_type": kind, "section": section}
        model = f"{prefix}{code}-{section}-{volts}V"
        items.append(
            SampleProduct("connector", brand, model, specs, _price(rng, market.price_range("connector")))
        )
    return items


SYNTHETIC: dict[str, Callable[[random.Random, Market], list[SampleProduct]]] = {
    "battery": batteries,
    "charge_controller": charge_controllers,
    "structure": structures,
    "string_box": string_boxes,
    "cable": cables,
    "connector": connectors,
}
