"""The small hand-made catalog of the kit, quote and compatibility tables (prices chosen for arithmetic).

M1/M2: 550 W modules (M2 dearer); I1: 5 kW 220 V single-phase string inverter, 2 MPPTs of 16 A, 1000 V;
I3: the same at 380 V three-phase; U1: a 500 W microinverter, one module per unit; S1/S2: ceramic (4
modules per unit) and metal structures; B1 (1000 V) and B2 (500 V) string boxes; C1 6 mm² and C2 2.5 mm²
(too thin) cables; K1: a pre-built 5.5 kWp kit of 10 × M1 + I1.
"""

from __future__ import annotations

from typing import Any

from solar.parameters import SiteTemperatures

SITE = SiteTemperatures(min_c=0, max_c=40)
MODULE_SPECS = {
    "power_w": 550,
    "voc_v": 49.5,
    "isc_a": 13.9,
    "vmp_v": 41.6,
    "imp_a": 13.2,
    "temp_coeff_voc_pct_per_c": -0.27,
}
INVERTER_SPECS = {
    "power_w": 5000,
    "max_dc_voltage_v": 1000,
    "mppt_low_v": 120,
    "mppt_high_v": 850,
    "mppt_count": 2,
    "max_dc_current_a": 16,
    "ac_voltage_v": 220,
    "phases": 1,
}


def item(
    category: str, model: str, specs: dict[str, Any], price: float, stock: int = 500, lead: int = 0
) -> dict[str, Any]:
    """A flat dict: product fields plus one offer's price, stock and lead time."""
    return {
        "id": model,
        "category": category,
        "brand": "Acme",
        "model": model,
        "specs": specs,
        "price_brl": price,
        "stock": stock,
        "lead_time_days": lead,
        "distributor": "d1",
        "sku": f"S-{model}",
    }


def catalog(**replace: dict[str, Any]) -> list[dict[str, Any]]:
    items = {
        "M1": item("module", "M1", MODULE_SPECS, 440.0, lead=2),
        "M2": item("module", "M2", MODULE_SPECS, 550.0),  # same module, dearer
        "I1": item("inverter", "I1", INVERTER_SPECS, 4000.0),
        "I3": item("inverter", "I3", INVERTER_SPECS | {"ac_voltage_v": 380, "phases": 3}, 3500.0),
        "U1": item(
            "microinverter",
            "U1",
            {
                "power_w": 500,
                "max_dc_voltage_v": 60,
                "mppt_low_v": 16,
                "mppt_high_v": 60,
                "max_dc_current_a": 14,
                "ac_voltage_v": 220,
                "phases": 1,
            },
            700.0,
        ),
        "S1": item("structure", "S1", {"roof_type": "Cerâmico", "module_slots": 4}, 200.0),
        "S2": item("structure", "S2", {"roof_type": "metalico", "module_slots": 1}, 60.0),
        "B1": item(
            "string_box", "B1", {"string_inputs": 2, "max_dc_voltage_v": 1000, "max_dc_current_a": 25}, 500.0
        ),
        "B2": item(
            "string_box", "B2", {"string_inputs": 2, "max_dc_voltage_v": 500, "max_dc_current_a": 25}, 100.0
        ),
        "C1": item("cable", "C1", {"section_mm2": 6, "length_m": 50}, 300.0),
        "C2": item("cable", "C2", {"section_mm2": 2.5, "length_m": 100}, 50.0),  # too thin
        "K1": item(
            "kit",
            "K1",
            {
                "power_w": 5500,
                "roof_type": "ceramico",
                "ac_voltage_v": 220,
                "phases": 1,
                "components": [
                    {"category": "module", "brand": "ACME", "model": "m-1", "quantity": 10},
                    {"category": "inverter", "brand": "Acme", "model": "I1", "quantity": 1},
                ],
            },
            9000.0,
            lead=5,
        ),
    }
    for name, changes in replace.items():
        items[name] = items[name] | changes
    return list(items.values())
