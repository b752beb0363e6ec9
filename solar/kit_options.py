"""What a kit recommendation says: the need, and options with lines, price, lead time, layout and checks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from solar.balance import Pick
from solar.connection import GridConnection
from solar.equipment import Inverter, Module
from solar.parameters import KitSearchParameters, SiteTemperatures, SolarParameters
from solar.strings import Check, StringLayout, connection_checks, dc_ac_check, string_checks

_EPSILON = 1e-6


class KitNeed(BaseModel):
    model_config = ConfigDict(frozen=True)

    kwp: float = Field(gt=0, description="DC power needed (from sizing), kWp.")
    roof_type: str = Field(description="ceramico, metalico, fibrocimento, laje, solo (accents ignored).")
    connection: GridConnection
    site: SiteTemperatures = Field(description="Design ambient temperatures of the site.")
    include_microinverters: bool = True
    include_prebuilt: bool = True


class KitLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    category: str
    product_id: str
    brand: str
    model: str
    quantity: int
    unit_price_brl: float
    total_brl: float
    distributor: str
    sku: str
    lead_time_days: int


class LayoutView(BaseModel):
    model_config = ConfigDict(frozen=True)

    modules_in_series: int
    strings: int
    inverters: int
    strings_per_mppt: int


class KitOption(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["composed", "microinverter", "prebuilt"]
    title: str
    dc_power_w: float
    ac_power_w: float | None
    dc_ac_ratio: float | None = Field(description="Module kWp (STC) / inverter AC kW.")
    modules: int | None
    layout: LayoutView | None
    lines: list[KitLine]
    total_price_brl: float
    price_per_wp: float
    lead_time_days: int = Field(description="The slowest line's lead time.")
    checks: list[Check]


def kit_line(pick: Pick) -> KitLine:
    listing, offer = pick.listing, pick.offer
    unit = offer.price_brl or 0.0
    return KitLine(
        category=listing.category,
        product_id=listing.id,
        brand=listing.brand,
        model=listing.model,
        quantity=pick.quantity,
        unit_price_brl=unit,
        total_brl=round(unit * pick.quantity, 2),
        distributor=offer.distributor,
        sku=offer.sku,
        lead_time_days=offer.lead_time_days,
    )


def power_fits(dc_w: float, need_w: float, unit_w: float, params: KitSearchParameters) -> bool:
    """Within the tolerance window, or above it only because one unit (module) less would fall short."""
    low, high = params.power_tolerance
    return dc_w >= need_w * low - _EPSILON and (dc_w <= need_w * high + _EPSILON or dc_w - unit_w < need_w)


def power_check(dc_w: float, need_w: float, unit_w: float, params: KitSearchParameters) -> Check:
    low, high = params.power_tolerance
    return Check(
        name="power",
        ok=power_fits(dc_w, need_w, unit_w, params),
        detail=f"{dc_w / 1000:.2f} kWp for {need_w / 1000:.2f} kWp needed (accepted {low:g}–{high:g}×)",
    )


def render_option(
    module: Module,
    inverter: Inverter,
    layout: StringLayout,
    picks: tuple[Pick, ...],
    need: KitNeed,
    params: SolarParameters,
) -> KitOption:
    """A composed option with every check stated (all pass when it comes from the search)."""
    dc_w = layout.modules * module.power_w
    ac_w = layout.inverters * inverter.ac_power_w
    checks = [
        power_check(dc_w, need.kwp * 1000, module.power_w, params.kits),
        *string_checks(module, inverter, layout, need.site, params.electrical),
        dc_ac_check(dc_w, ac_w, params.electrical),
        *connection_checks(inverter, need.connection, params.electrical),
    ]
    total = round(sum(pick.cost_brl for pick in picks), 2)
    m, i = module.listing, inverter.listing
    return KitOption(
        kind="microinverter" if inverter.micro else "composed",
        title=f"{dc_w / 1000:.2f} kWp: {layout.modules} × {m.brand} {m.model} + "
        f"{layout.inverters} × {i.brand} {i.model}",
        dc_power_w=dc_w,
        ac_power_w=ac_w,
        dc_ac_ratio=round(dc_w / ac_w, 4),
        modules=layout.modules,
        layout=LayoutView(**vars(layout)),
        lines=[kit_line(pick) for pick in picks],
        total_price_brl=total,
        price_per_wp=round(total / dc_w, 4),
        lead_time_days=max(pick.offer.lead_time_days for pick in picks),
        checks=checks,
    )
