"""What goes with a product (the product-recommendation workflow): for a module, the inverters and
microinverters it strings well with; for an inverter, the modules that string well on it; for either, the
structures, string boxes and cables of the catalog in stock.

"Strings well" is the same electrical test the kit composer applies (DOMAIN.md §3) at the site's design
temperatures: some string length keeps cold Voc under the inverter's maximum DC voltage and the Vmp
between the MPPT limits, and at least one string fits an MPPT's current. Each match says why, in
numbers. Candidates are in-stock products only, cheapest first (modules: cheapest per Wp first).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from pydantic import BaseModel, Field

from solar.equipment import EquipmentIndex, Inverter, Module, StringBox
from solar.offers import Listing
from solar.parameters import SiteTemperatures, SolarParameters
from solar.strings import dc_ac_ratio, micro_fits, module_voltages, series_range

ANCHOR_CATEGORIES = ("module", "inverter", "microinverter")


class NotAnAnchor(ValueError):
    """Compatibility is worked out for modules, inverters and microinverters only."""


class CompatibleProduct(BaseModel):
    product_id: str
    category: str
    title: str
    brand: str
    model: str
    price_brl: float = Field(description="Lowest in-stock offer.")
    distributor: str
    stock: int
    why: str = Field(description="The numbers that make it fit.")


class Compatibility(BaseModel):
    product_id: str
    category: str
    title: str
    site_min_c: float = Field(description="Coldest design ambient used for cold Voc.")
    site_max_c: float = Field(description="Hottest design ambient used for hot Vmp.")
    inverters: list[CompatibleProduct] = Field(default_factory=list)
    microinverters: list[CompatibleProduct] = Field(default_factory=list)
    modules: list[CompatibleProduct] = Field(default_factory=list)
    structures: list[CompatibleProduct] = Field(default_factory=list)
    string_boxes: list[CompatibleProduct] = Field(default_factory=list)
    cables: list[CompatibleProduct] = Field(default_factory=list)


def _product(listing: Listing, why: str) -> CompatibleProduct:
    offer = listing.offers[0]  # in-stock listings only reach here; offers are cheapest first
    return CompatibleProduct(
        product_id=listing.id,
        category=listing.category,
        title=listing.title,
        brand=listing.brand,
        model=listing.model,
        price_brl=offer.price_brl or 0.0,
        distributor=offer.distributor,
        stock=offer.stock,
        why=why,
    )


def _string_fit(
    module: Module, inverter: Inverter, site: SiteTemperatures, params: SolarParameters
) -> str | None:
    fewest, most, parallel = series_range(module_voltages(module, site, params.electrical), inverter)
    if fewest > most or parallel < 1:
        return None
    return (
        f"{fewest}–{most} modules in series; up to {parallel} string(s) per MPPT × {inverter.mppt_count} "
        f"MPPT(s)"
    )


def _micro_fit(
    module: Module, micro: Inverter, site: SiteTemperatures, params: SolarParameters
) -> str | None:
    electrical = params.electrical
    ratio = dc_ac_ratio(micro.inputs * module.power_w, micro.ac_power_w)
    if not micro_fits(module_voltages(module, site, electrical), micro):
        return None
    if not electrical.dc_ac_ratio_min - 1e-9 <= ratio <= electrical.dc_ac_ratio_max + 1e-9:
        return None
    return f"{micro.inputs} module(s) per unit; DC/AC {ratio:.2f}"


def _structures(index: EquipmentIndex) -> Iterator[CompatibleProduct]:
    """The cheapest structure of each roof type: any framed module mounts on them."""
    for roof, structures in sorted(index.structures.items()):
        structure = structures[0]
        yield _product(structure.listing, f"{roof} roof; {structure.module_slots} module(s) per unit")


def _boxes(index: EquipmentIndex, voltage_v: float | None, current_a: float) -> Iterator[CompatibleProduct]:
    """Boxes rated for `current_a` per input and, when given, `voltage_v` (unrated boxes are taken as fit,
    as the kit composer does)."""

    def rated(box: StringBox) -> bool:
        return (voltage_v is None or box.max_dc_voltage_v is None or box.max_dc_voltage_v >= voltage_v) and (
            box.max_dc_current_a is None or box.max_dc_current_a >= current_a
        )

    needed = f"{current_a:g} A" if voltage_v is None else f"{voltage_v:.0f} V / {current_a:g} A"
    for box in filter(rated, index.string_boxes):
        rating = f"{box.max_dc_voltage_v or '?'} V / {box.max_dc_current_a or '?'} A"
        yield _product(box.listing, f"{box.inputs} input(s), rated {rating} for {needed}")


def _cables(index: EquipmentIndex, params: SolarParameters) -> Iterator[CompatibleProduct]:
    low, high = params.kits.min_cable_section_mm2, params.kits.max_cable_section_mm2
    for cable in index.cables:
        if low <= cable.section_mm2 <= high:
            yield _product(cable.listing, f"{cable.section_mm2:g} mm² DC cable, {cable.length_m:g} m")


def _cheapest(inverters: list[Inverter]) -> list[Inverter]:
    return sorted(
        inverters, key=lambda inverter: (inverter.listing.offers[0].price_brl or 0.0, inverter.listing.id)
    )


def _take(matches: Iterable[CompatibleProduct], limit: int) -> list[CompatibleProduct]:
    return list(islice(matches, limit))


@dataclass(frozen=True)
class PairFit:
    """One module with one inverter or microinverter at a site: whether they work together, and the
    numbers that decide it (the series range and strings per MPPT; a micro's inputs and DC/AC ratio)."""

    module: Listing
    inverter: Listing
    micro: bool
    fits: bool
    fewest_in_series: int = 0
    most_in_series: int = 0
    strings_per_mppt: int = 0
    mppts: int = 0
    inputs: int = 0
    dc_ac_ratio: float = 0.0


def pair_fit(
    index: EquipmentIndex, first_id: str, second_id: str, site: SiteTemperatures, params: SolarParameters
) -> PairFit:
    """Whether two products of the catalog, a module and an inverter (or microinverter) in either order,
    work together at the site's design temperatures. KeyError for an id not in the catalog;
    NotAnAnchor when the two are not one module and one inverter with their electrical specs."""
    listings = [index.listings[first_id], index.listings[second_id]]
    parts = [index.parts_by_id.get(listing.id) for listing in listings]
    modules = [p for p in parts if isinstance(p, Module)]
    inverters = [p for p in parts if isinstance(p, Inverter)]
    if len(modules) != 1 or len(inverters) != 1:
        raise NotAnAnchor(
            "compatibility is worked out for one module with one inverter or microinverter, with their "
            f"electrical specs: got {', '.join(f'{item.title!r} ({item.category})' for item in listings)}"
        )
    module, inverter = modules[0], inverters[0]
    voltages = module_voltages(module, site, params.electrical)
    if inverter.listing.category == "microinverter":
        ratio = dc_ac_ratio(inverter.inputs * module.power_w, inverter.ac_power_w)
        electrical = params.electrical
        fits = micro_fits(voltages, inverter) and (
            electrical.dc_ac_ratio_min - 1e-9 <= ratio <= electrical.dc_ac_ratio_max + 1e-9
        )
        return PairFit(
            module.listing, inverter.listing, True, fits, inputs=inverter.inputs, dc_ac_ratio=ratio
        )
    fewest, most, parallel = series_range(voltages, inverter)
    return PairFit(
        module.listing,
        inverter.listing,
        False,
        fewest <= most and parallel >= 1,
        fewest_in_series=fewest,
        most_in_series=most,
        strings_per_mppt=parallel,
        mppts=inverter.mppt_count,
    )


def compatible_with(
    index: EquipmentIndex, product_id: str, site: SiteTemperatures, params: SolarParameters, limit: int
) -> Compatibility:
    """KeyError for a product not in the catalog; NotAnAnchor for one that is not a module or inverter
    (or whose electrical specs are missing)."""
    listing = index.listings[product_id]
    part = index.parts_by_id.get(product_id)
    if not isinstance(part, Module | Inverter):
        raise NotAnAnchor(
            f"compatibility is worked out for {', '.join(ANCHOR_CATEGORIES)} with electrical specs; "
            f"{listing.title!r} is a {listing.category}"
            + ("" if listing.category not in ANCHOR_CATEGORIES else " without the specs it needs")
        )
    result = Compatibility(
        product_id=product_id,
        category=listing.category,
        title=listing.title,
        site_min_c=site.min_c,
        site_max_c=site.max_c,
        structures=_take(_structures(index), limit),
    )
    cables = _take(_cables(index, params), limit)
    if isinstance(part, Module):
        result.inverters = _take(
            (
                _product(i.listing, why)
                for i in _cheapest(index.inverters)
                if (why := _string_fit(part, i, site, params))
            ),
            limit,
        )
        result.microinverters = _take(
            (
                _product(m.listing, why)
                for m in index.microinverters
                if (why := _micro_fit(part, m, site, params))
            ),
            limit,
        )
        # The string voltage depends on the inverter it goes on: boxes are matched on current here.
        current = module_voltages(part, site, params.electrical).current_a
        result.string_boxes = _take(_boxes(index, None, current), limit)
        result.cables = cables
    elif part.micro:
        result.modules = _take(
            (_product(m.listing, why) for m in index.modules if (why := _micro_fit(m, part, site, params))),
            limit,
        )
    else:
        result.modules = _take(
            (_product(m.listing, why) for m in index.modules if (why := _string_fit(m, part, site, params))),
            limit,
        )
        # A string on this inverter never exceeds its maximum DC voltage nor its MPPT current.
        result.string_boxes = _take(_boxes(index, part.max_dc_voltage_v, part.max_dc_current_a), limit)
        result.cables = cables
    return result
