"""A cart reviewed as a system (the quote-with-AI workflow): priced from the best in-stock offers, checked
electrically like a composed kit, sized against the need, with the missing parts suggested.

The cart is taken as the customer meant it: its modules are laid out exactly (equal strings, every module
used) on its inverters; when that is impossible the checks say which limit breaks and the modules that
complete the nearest layout are suggested. A missing inverter, module, structure, string box or cable is
suggested from the catalog in stock with the kit composer's rules (cheapest that fits), and the checks
then cover the cart completed with those suggestions. Suggestions are priced apart from the cart.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from solar.balance import BalanceOfSystem, Pick
from solar.connection import GridConnection, ac_voltage_ok, phases_ok
from solar.equipment import EquipmentIndex, Inverter, Module, PrebuiltKit, roof_key
from solar.kit_options import KitLine, kit_line, power_check
from solar.offers import Listing
from solar.parameters import SiteTemperatures, SolarParameters
from solar.strings import (
    Check,
    StringLayout,
    connection_checks,
    dc_ac_check,
    dc_ac_ratio,
    find_layout,
    micro_fits,
    micro_layout,
    module_voltages,
    series_range,
    string_checks,
)


class UnknownProducts(LookupError):
    def __init__(self, product_ids: Sequence[str]) -> None:
        super().__init__(f"not in the catalog: {', '.join(product_ids)}")
        self.product_ids = list(product_ids)


@dataclass(frozen=True)
class QuoteNeed:
    site: SiteTemperatures
    roof_type: str
    connection: GridConnection | None = None
    kwp_needed: float | None = None


class QuoteLine(BaseModel):
    product_id: str
    category: str
    title: str
    qty: int
    unit_price_brl: float | None = Field(description="Best in-stock offer covering qty; None if none does.")
    total_brl: float | None
    distributor: str | None
    sku: str | None
    lead_time_days: int | None
    available: bool = Field(description="One distributor has qty in stock.")


class Suggestion(BaseModel):
    line: KitLine
    reason: str


class CartReview(BaseModel):
    lines: list[QuoteLine]
    checks: list[Check] = Field(description="For the cart completed with the suggestions.")
    suggestions: list[Suggestion]
    dc_power_w: float = Field(description="Modules and pre-built kits, suggestions included.")
    ac_power_w: float | None
    strings: int | None
    total_brl: float = Field(description="The cart's available lines.")
    total_with_suggestions_brl: float
    notes: list[str]


def _quote_line(listing: Listing, qty: int) -> QuoteLine:
    offer = listing.offer_for(qty)
    price = offer.price_brl if offer else None
    return QuoteLine(
        product_id=listing.id,
        category=listing.category,
        title=listing.title,
        qty=qty,
        unit_price_brl=price,
        total_brl=round(price * qty, 2) if price is not None else None,
        distributor=offer.distributor if offer else None,
        sku=offer.sku if offer else None,
        lead_time_days=offer.lead_time_days if offer else None,
        available=offer is not None,
    )


def _stock_check(listing: Listing, qty: int) -> Check:
    most = max((offer.stock for offer in listing.offers), default=0)
    if listing.offer_for(qty) is not None:
        return Check(name="stock", ok=True, detail=f"{listing.title}: {qty} in stock")
    available = f"at most {most} at one distributor" if most else "none in stock"
    return Check(name="stock", ok=False, detail=f"{listing.title}: {qty} wanted, {available}")


def exact_layout(
    module: Module,
    inverter: Inverter,
    units: int,
    modules: int,
    site: SiteTemperatures,
    params: SolarParameters,
) -> StringLayout | None:
    """Equal strings using exactly `modules` modules on `units` inverters, every string check passing."""
    fewest, most, parallel = series_range(module_voltages(module, site, params.electrical), inverter)
    mppts = units * inverter.mppt_count
    for series in range(most, fewest - 1, -1):  # longest strings first: fewer strings, less cable
        strings, remainder = divmod(modules, series)
        if remainder == 0 and units <= strings <= mppts * parallel:
            return StringLayout(series, strings, units, math.ceil(strings / mppts))
    return None


def _by_price(listing: Listing) -> tuple[float, str]:
    return (listing.offers[0].price_brl or 0.0) if listing.offers else math.inf, listing.id


@dataclass
class _Cart:
    """The electrical parts of the cart (and of the suggestions taken into it), by kind."""

    modules: list[tuple[Module, int]] = field(default_factory=list)
    inverters: list[tuple[Inverter, int]] = field(default_factory=list)
    kits: list[tuple[PrebuiltKit, int]] = field(default_factory=list)
    categories: set[str] = field(default_factory=set)


class _Review:
    """One cart's review: walks the system, collecting checks, suggestions and notes."""

    def __init__(self, index: EquipmentIndex, need: QuoteNeed, params: SolarParameters, cart: _Cart) -> None:
        self.index, self.need, self.params, self.cart = index, need, params, cart
        self.bos = BalanceOfSystem(index, roof_key(need.roof_type), params.kits)
        self.checks: list[Check] = []
        self.suggestions: list[Suggestion] = []
        self.notes: list[str] = []
        self.strings: int | None = None

    def suggest(self, pick: Pick | None, reason: str, missing: str) -> None:
        if pick is None:
            self.notes.append(f"{missing}: nothing in stock fits")
        else:
            self.suggestions.append(Suggestion(line=kit_line(pick), reason=reason))

    def fits_connection(self, inverter: Inverter) -> bool:
        connection, electrical = self.need.connection, self.params.electrical
        return connection is None or (
            ac_voltage_ok(inverter.ac_voltage_v, connection, electrical)
            and phases_ok(inverter.phases, connection, electrical)
        )

    def ratio_ok(self, dc_w: float, ac_w: float) -> bool:
        low, high = self.params.electrical.dc_ac_ratio_min, self.params.electrical.dc_ac_ratio_max
        return low - 1e-9 <= dc_ac_ratio(dc_w, ac_w) <= high + 1e-9

    # ------------------------------------------------------------ completing the cart

    def inverter_candidates(self, module: Module, modules: int) -> Iterator[tuple[Inverter, int, str]]:
        """Cheapest first: string inverters (up to `max_inverters_per_option` units) laying the modules out
        exactly, then microinverters."""
        dc_w = modules * module.power_w
        site = self.need.site
        fitting = []
        for units in range(1, self.params.kits.max_inverters_per_option + 1):
            for inverter in self.index.inverters:
                if (
                    self.fits_connection(inverter)
                    and self.ratio_ok(dc_w, units * inverter.ac_power_w)
                    and exact_layout(module, inverter, units, modules, site, self.params) is not None
                ):
                    fitting.append(
                        (units * _by_price(inverter.listing)[0], inverter.listing.id, inverter, units)
                    )
        for _total, _id, inverter, units in sorted(fitting, key=lambda f: (f[0], f[1])):
            yield (
                inverter,
                units,
                f"cheapest in stock that strings {modules} × {module.listing.model} exactly",
            )
        voltages = module_voltages(module, site, self.params.electrical)
        for micro in self.index.microinverters:
            if (
                self.fits_connection(micro)
                and micro_fits(voltages, micro)
                and self.ratio_ok(micro.inputs * module.power_w, micro.ac_power_w)
            ):
                yield micro, math.ceil(modules / micro.inputs), f"one {module.listing.model} per input"

    def complete_inverter(self, module: Module, modules: int) -> None:
        for inverter, units, reason in self.inverter_candidates(module, modules):
            offer = inverter.listing.offer_for(units)
            if offer is not None:
                self.suggest(Pick(inverter.listing, units, offer), reason, "inverter")
                self.cart.inverters.append((inverter, units))
                return
        self.notes.append("inverter: nothing in stock fits these modules")

    def complete_modules(self, inverter: Inverter, units: int) -> None:
        electrical = self.params.electrical
        target_w = (
            self.need.kwp_needed * 1000
            if self.need.kwp_needed
            else units * inverter.ac_power_w * (electrical.dc_ac_ratio_min + electrical.dc_ac_ratio_max) / 2
        )
        for module in self.index.modules:  # cheapest per Wp first
            wanted = math.ceil(target_w / module.power_w - 1e-9)
            if inverter.micro:
                wanted = min(wanted, units * inverter.inputs)
                fits = micro_fits(module_voltages(module, self.need.site, electrical), inverter)
            else:
                layout = find_layout(module, inverter, units, wanted, self.need.site, electrical)
                fits = layout is not None
                wanted = layout.modules if layout is not None else wanted
            dc_w = wanted * module.power_w
            offer = module.listing.offer_for(wanted)
            if fits and offer is not None and self.ratio_ok(dc_w, units * inverter.ac_power_w):
                reason = f"cheapest per Wp in stock that strings well: {dc_w / 1000:.2f} kWp"
                self.suggest(Pick(module.listing, wanted, offer), reason, "modules")
                self.cart.modules.append((module, wanted))
                return
        self.notes.append("modules: nothing in stock strings well on this inverter")

    # ------------------------------------------------------------ checking the system

    def string_system(self, module: Module, modules: int, inverter: Inverter, units: int) -> None:
        site, electrical = self.need.site, self.params.electrical
        layout = exact_layout(module, inverter, units, modules, site, self.params)
        if layout is None:
            detail = f"{modules} modules make no equal strings within every limit on {units} inverter(s)"
            nearest = find_layout(module, inverter, units, modules, site, electrical)
            if nearest is not None:
                extra = nearest.modules - modules
                detail += f"; nearest: {nearest.strings} string(s) of {nearest.modules_in_series}"
                offer = module.listing.offer_for(modules + extra)
                if extra and offer is not None:
                    self.suggest(
                        Pick(module.listing, extra, offer), f"{extra} more to make {detail}", "modules"
                    )
            self.checks.append(Check(name="string_layout", ok=False, detail=detail))
            # Which limit breaks: every module in equal-as-possible strings over every MPPT.
            strings = min(modules, units * inverter.mppt_count)
            layout = StringLayout(math.ceil(modules / strings), strings, units, 1)
        self.strings = layout.strings
        self.checks += string_checks(module, inverter, layout, site, electrical)
        voltages = module_voltages(module, site, electrical)
        if "string_box" not in self.cart.categories:
            per_inverter = math.ceil(layout.strings / units)
            box = self.bos.string_box(
                per_inverter, units, layout.modules_in_series * voltages.voc_cold_v, voltages.current_a
            )
            self.suggest(box, f"DC protection for {layout.strings} string(s)", "string box")
        if "cable" not in self.cart.categories and self.params.kits.dc_cable_m_per_string > 0:
            self.suggest(self.bos.cable(layout.strings), f"DC cable for {layout.strings} string(s)", "cable")

    def micro_system(self, module: Module, modules: int, micro: Inverter, units: int) -> None:
        inputs = units * micro.inputs
        self.checks.append(
            Check(
                name="micro_inputs",
                ok=modules <= inputs,
                detail=f"{modules} modules on {units} × {micro.inputs} input(s) = {inputs} input(s)",
            )
        )
        if modules > inputs:
            more = math.ceil((modules - inputs) / micro.inputs)
            offer = micro.listing.offer_for(units + more)
            if offer is not None:
                self.suggest(
                    Pick(micro.listing, more, offer), f"{more} more unit(s): an input per module", "micro"
                )
        layout = micro_layout(micro, modules)
        self.strings = layout.strings
        self.checks += string_checks(module, micro, layout, self.need.site, self.params.electrical)

    def system(self) -> None:
        cart = self.cart
        if len(cart.modules) > 1 or len(cart.inverters) > 1:
            self.checks.append(
                Check(
                    name="one_model_each",
                    ok=False,
                    detail="more than one module or inverter model: quote each system separately to check it",
                )
            )
            return
        if cart.modules and not cart.inverters:
            self.complete_inverter(*cart.modules[0])
        elif cart.inverters and not cart.modules:
            self.complete_modules(*cart.inverters[0])
        if not (cart.modules and cart.inverters):
            return
        (module, modules), (inverter, units) = cart.modules[0], cart.inverters[0]
        if inverter.micro:
            self.micro_system(module, modules, inverter, units)
        else:
            self.string_system(module, modules, inverter, units)
        self.checks.append(
            dc_ac_check(modules * module.power_w, units * inverter.ac_power_w, self.params.electrical)
        )
        if self.need.connection is not None:
            self.checks += connection_checks(inverter, self.need.connection, self.params.electrical)

    def mounting(self) -> None:
        modules = sum(quantity for _module, quantity in self.cart.modules)
        if modules and "structure" not in self.cart.categories:
            pick = self.bos.structure(modules)
            self.suggest(pick, f"{self.need.roof_type} roof structure for {modules} modules", "structure")


def _electrical_parts(index: EquipmentIndex, quantities: dict[str, int]) -> _Cart:
    cart = _Cart(categories={index.listings[product_id].category for product_id in quantities})
    for product_id, quantity in quantities.items():
        part = index.parts_by_id.get(product_id)
        if isinstance(part, Module):
            cart.modules.append((part, quantity))
        elif isinstance(part, Inverter):
            cart.inverters.append((part, quantity))
        elif isinstance(part, PrebuiltKit):
            cart.kits.append((part, quantity))
    return cart


def review_cart(
    index: EquipmentIndex, cart: Sequence[tuple[str, int]], need: QuoteNeed, params: SolarParameters
) -> CartReview:
    """UnknownProducts for ids not in the catalog. The same product twice counts once, quantities added."""
    unknown = [product_id for product_id, _qty in cart if product_id not in index.listings]
    if unknown:
        raise UnknownProducts(unknown)
    quantities: dict[str, int] = {}
    for product_id, quantity in cart:
        quantities[product_id] = quantities.get(product_id, 0) + quantity
    lines = [_quote_line(index.listings[pid], qty) for pid, qty in quantities.items()]
    parts = _electrical_parts(index, quantities)
    review = _Review(index, need, params, parts)
    review.checks += [_stock_check(index.listings[pid], qty) for pid, qty in quantities.items()]
    review.system()
    review.mounting()
    if parts.kits:
        review.notes.append(
            "pre-built kits are priced and counted in the DC power; their parts are not re-checked"
        )
    if not (parts.modules or parts.inverters or parts.kits):
        review.notes.append("no module, inverter or kit in the cart: nothing to check as a system")

    dc_w = sum(m.power_w * q for m, q in parts.modules) + sum(k.power_w * q for k, q in parts.kits)
    ac_w = sum(i.ac_power_w * q for i, q in parts.inverters) or None
    if need.kwp_needed is not None and dc_w > 0:
        unit_w = parts.modules[0][0].power_w if len(parts.modules) == 1 else dc_w
        review.checks.append(power_check(dc_w, need.kwp_needed * 1000, unit_w, params.kits))
    total = round(sum(line.total_brl or 0.0 for line in lines), 2)
    return CartReview(
        lines=lines,
        checks=review.checks,
        suggestions=review.suggestions,
        dc_power_w=dc_w,
        ac_power_w=ac_w,
        strings=review.strings,
        total_brl=total,
        total_with_suggestions_brl=round(total + sum(s.line.total_brl for s in review.suggestions), 2),
        notes=review.notes,
    )
