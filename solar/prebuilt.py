"""Pre-built kits ("geradores") of the catalog that meet a need, with the same checks as composed ones.

A kit lists its components by brand and model; the module and inverter are looked up in the catalog so
that the string and DC/AC checks can run. A kit whose parts cannot be found is not offered: its
electrical fit would be a guess.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from solar.balance import Pick
from solar.equipment import EquipmentIndex, Inverter, Module, PrebuiltKit, part_key, roof_key
from solar.kit_options import KitNeed, KitOption, LayoutView, kit_line, power_check
from solar.parameters import SolarParameters
from solar.strings import (
    Check,
    StringLayout,
    connection_checks,
    dc_ac_check,
    find_layout,
    micro_layout,
    string_checks,
)


def _component(
    index: EquipmentIndex, kit: PrebuiltKit, categories: tuple[str, ...]
) -> tuple[Module | Inverter | None, int]:
    for category, brand, model, quantity in kit.components:
        if category in categories:
            return index.parts_by_key.get(part_key(brand, model)), quantity
    return None, 0


def _electrical_checks(
    index: EquipmentIndex, kit: PrebuiltKit, need: KitNeed, params: SolarParameters
) -> tuple[list[Check], StringLayout | None, Inverter | None]:
    module, modules = _component(index, kit, ("module",))
    inverter, units = _component(index, kit, ("inverter", "microinverter"))
    if not isinstance(module, Module) or not isinstance(inverter, Inverter):
        missing = "module" if not isinstance(module, Module) else "inverter"
        detail = f"the kit's {missing} is not in the catalog with electrical data: cannot check it"
        return [Check(name="components_known", ok=False, detail=detail)], None, None
    if inverter.micro:
        layout: StringLayout | None = micro_layout(inverter, modules)
        fits = layout is not None and layout.inverters <= units
    else:
        layout = find_layout(module, inverter, units, modules, need.site, params.electrical)
        fits = layout is not None and layout.modules == modules
    if layout is None or not fits:
        detail = f"{modules} × {module.listing.model} on {units} × {inverter.listing.model}: no string layout"
        return [Check(name="string_layout", ok=False, detail=detail)], None, inverter
    ac_w = (layout.inverters if inverter.micro else units) * inverter.ac_power_w
    checks = [
        *string_checks(module, inverter, layout, need.site, params.electrical),
        dc_ac_check(modules * module.power_w, ac_w, params.electrical),
        *connection_checks(inverter, need.connection, params.electrical),
    ]
    return checks, layout, inverter


def prebuilt_options(index: EquipmentIndex, need: KitNeed, params: SolarParameters) -> list[KitOption]:
    """Every in-stock kit in the power window, for the roof, whose checks all pass."""
    need_w = need.kwp * 1000
    low, high = params.kits.power_tolerance
    powers = index.kit_powers
    window = index.kits[bisect_left(powers, need_w * low - 1e-6) : bisect_right(powers, need_w * high + 1e-6)]
    roof = roof_key(need.roof_type)
    options = []
    for kit in window:
        offer = kit.listing.offer_for(1)
        if offer is None or kit.roof_type != roof:
            continue
        checks, layout, inverter = _electrical_checks(index, kit, need, params)
        roof_ok = Check(name="roof_type", ok=True, detail=f"structure for {kit.roof_type} roofs")
        checks = [power_check(kit.power_w, need_w, 0.0, params.kits), roof_ok, *checks]
        if not all(check.ok for check in checks):
            continue
        price = offer.price_brl or 0.0
        ac_w = None if layout is None or inverter is None else layout.inverters * inverter.ac_power_w
        options.append(
            KitOption(
                kind="prebuilt",
                title=f"{kit.power_w / 1000:.2f} kWp kit {kit.listing.brand} {kit.listing.model}",
                dc_power_w=kit.power_w,
                ac_power_w=ac_w,
                dc_ac_ratio=round(kit.power_w / ac_w, 4) if ac_w else None,
                modules=layout.modules if layout else None,
                layout=LayoutView(**vars(layout)) if layout else None,
                lines=[kit_line(Pick(kit.listing, 1, offer))],
                total_price_brl=round(price, 2),
                price_per_wp=round(price / kit.power_w, 4),
                lead_time_days=offer.lead_time_days,
                checks=checks,
            )
        )
    return options
