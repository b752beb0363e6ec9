"""Small hand-made parts for the string and kit tables (the numbers are chosen for arithmetic by hand)."""

from __future__ import annotations

from typing import Any

from solar.equipment import Inverter, Module
from solar.offers import Listing, OfferTerms


def listing(category: str, model: str, price: float = 100.0, stock: int = 1000, lead: int = 0) -> Listing:
    offer = OfferTerms(
        distributor="d1", sku=f"SKU-{model}", price_brl=price, stock=stock, lead_time_days=lead
    )
    return Listing(f"id-{model}", category, "Acme", model, model, (offer,))


def module(**changes: Any) -> Module:
    """550 W: Voc 49.5 V, Isc 13.9 A, Vmp 41.6 V, Imp 13.2 A, β(Voc) −0.27 %/°C."""
    values: dict[str, Any] = {
        "power_w": 550.0,
        "voc_v": 49.5,
        "isc_a": 13.9,
        "vmp_v": 41.6,
        "imp_a": 13.2,
        "temp_coeff_voc_pct_per_c": -0.27,
    } | changes
    return Module(listing("module", "M550"), **values)


def inverter(**changes: Any) -> Inverter:
    """5 kW, 220 V single-phase; 1000 V max DC; MPPT 120–850 V, 2 MPPTs of 16 A."""
    values: dict[str, Any] = {
        "ac_power_w": 5000.0,
        "max_dc_voltage_v": 1000.0,
        "mppt_low_v": 120.0,
        "mppt_high_v": 850.0,
        "mppt_count": 2,
        "max_dc_current_a": 16.0,
        "ac_voltage_v": 220.0,
        "phases": 1,
        "micro": False,
    } | changes
    return Inverter(listing("inverter", "INV5K"), **values)
