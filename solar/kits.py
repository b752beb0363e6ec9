"""Kit options for a need: composed from in-stock parts, or pre-built kits of the catalog; ranked.

The search is bounded so a request stays fast on a large catalog: only the `max_module_candidates`
cheapest-per-Wp modules with enough stock are tried; for each, inverters come from a bisection on AC
power (the DC/AC window) and only the `max_inverter_candidates` cheapest compatible ones are laid out.
Balance-of-system answers are memoised per request, and only the options returned are fully rendered.
Options rank by price per Wp, then lead time (the slowest line), then total price.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from pydantic import BaseModel, Field

from solar.balance import BalanceOfSystem, Pick
from solar.connection import ac_voltage_ok, phases_ok
from solar.equipment import EquipmentIndex, Inverter, Module, roof_key
from solar.kit_options import KitNeed, KitOption, power_fits, render_option
from solar.offers import Listing
from solar.parameters import SolarParameters
from solar.prebuilt import prebuilt_options
from solar.strings import ModuleVoltages, StringLayout, find_layout, micro_fits, micro_layout, module_voltages


class KitSearchResult(BaseModel):
    options: list[KitOption]
    candidates_evaluated: int = Field(description="Module × inverter layouts tried (the bounded search).")
    notes: list[str] = Field(default_factory=list, description="Why some kinds of option are missing.")


@dataclass(frozen=True)
class Draft:
    """A passing combination, priced but not rendered yet."""

    module: Module
    inverter: Inverter
    layout: StringLayout
    picks: tuple[Pick, ...]  # module and inverter first

    @property
    def total_brl(self) -> float:
        return sum(pick.cost_brl for pick in self.picks)

    @property
    def dc_power_w(self) -> float:
        return self.layout.modules * self.module.power_w

    def rank(self) -> tuple[float, int, float, str]:
        lead = max(pick.offer.lead_time_days for pick in self.picks)
        return self.total_brl / self.dc_power_w, lead, self.total_brl, self.module.listing.id


class _Search:
    """One request's search. What does not depend on the request beyond its roof or grid connection (the
    balance of system and its picks, the inverters that fit) is kept on the index for the next request;
    module voltages are worked out once per request and reused across the module × inverter pairs."""

    def __init__(self, index: EquipmentIndex, need: KitNeed, params: SolarParameters) -> None:
        self.index, self.need, self.params = index, need, params
        self.electrical, self.kits = params.electrical, params.kits
        roof = roof_key(need.roof_type)
        self.bos = index.shared(("bos", roof, params.kits), lambda: BalanceOfSystem(index, roof, params.kits))
        self.need_w = need.kwp * 1000
        # The electrical parameters hold a dict (not hashable): their JSON is the key.
        connection = ("inverters", need.connection, self.electrical.model_dump_json())
        self.inverters, self.inverter_powers, self.micros = index.shared(connection, self._fitting_inverters)
        self.evaluated = 0

    def _fitting_inverters(self) -> tuple[list[Inverter], list[float], list[Inverter]]:
        """String inverters (still by AC power) with their powers, and microinverters (cheapest first),
        that this connection takes."""
        inverters = [i for i in self.index.inverters if self.fits_connection(i)]
        micros = [m for m in self.index.microinverters if self.fits_connection(m)]
        return inverters, [i.ac_power_w for i in inverters], micros

    def fits_connection(self, inverter: Inverter) -> bool:
        connection, electrical = self.need.connection, self.electrical
        return ac_voltage_ok(inverter.ac_voltage_v, connection, electrical) and phases_ok(
            inverter.phases, connection, electrical
        )

    def modules(self) -> Iterator[tuple[Module, int]]:
        """The cheapest-per-Wp modules whose stock covers the modules needed, up to the cap."""
        tried = 0
        for module in self.index.modules:
            if tried >= self.kits.max_module_candidates:
                return
            count = math.ceil(self.need_w / module.power_w - 1e-9)
            if module.listing.offer_for(count) is not None:
                tried += 1
                yield module, count

    def string_inverters(self, dc_w: float, units: int) -> list[Inverter]:
        """The cheapest inverters whose AC power puts dc_w in the DC/AC window when `units` share it."""
        low = dc_w / (units * self.electrical.dc_ac_ratio_max)
        high = dc_w / (units * self.electrical.dc_ac_ratio_min)
        first = bisect_left(self.inverter_powers, low - 1e-6)
        last = bisect_right(self.inverter_powers, high + 1e-6)
        priced = []
        for position in range(first, last):
            offer = self.inverters[position].listing.offer_for(units)
            if offer is not None:
                priced.append((offer.price_brl or 0.0, position))
        priced.sort()
        return [self.inverters[position] for _price, position in priced[: self.kits.max_inverter_candidates]]

    def power_ok(self, modules: int, module: Module) -> bool:
        return power_fits(modules * module.power_w, self.need_w, module.power_w, self.kits)

    def ratio_ok(self, dc_w: float, ac_w: float) -> bool:
        return self.electrical.dc_ac_ratio_min - 1e-9 <= dc_w / ac_w <= self.electrical.dc_ac_ratio_max + 1e-9

    def string_draft(
        self, module: Module, voltages: ModuleVoltages, needed: int, inverter: Inverter, units: int
    ) -> Draft | None:
        self.evaluated += 1
        layout = find_layout(module, inverter, units, needed, self.need.site, self.electrical, voltages)
        if layout is None or not self.power_ok(layout.modules, module):
            return None
        if not self.ratio_ok(layout.modules * module.power_w, units * inverter.ac_power_w):
            return None
        box = self.bos.string_box(
            math.ceil(layout.strings / units),
            units,
            layout.modules_in_series * voltages.voc_cold_v,
            voltages.current_a,
        )
        needs_cable = self.kits.dc_cable_m_per_string > 0
        cable = self.bos.cable(layout.strings) if needs_cable else None
        parts = [
            _pick(module.listing, layout.modules),
            _pick(inverter.listing, units),
            self.bos.structure(layout.modules),
            box,
        ]
        if (needs_cable and cable is None) or any(part is None for part in parts):
            return None
        return Draft(module, inverter, layout, tuple(p for p in (*parts, cable) if p is not None))

    def micro_draft(
        self, module: Module, voltages: ModuleVoltages, needed: int, micro: Inverter
    ) -> Draft | None:
        self.evaluated += 1
        layout = micro_layout(micro, needed)
        if not self.power_ok(layout.modules, module) or not micro_fits(voltages, micro):
            return None
        parts = (
            _pick(module.listing, layout.modules),
            _pick(micro.listing, layout.inverters),
            self.bos.structure(layout.modules),
        )
        if any(part is None for part in parts):
            return None
        return Draft(module, micro, layout, tuple(p for p in parts if p is not None))

    def drafts(self) -> Iterator[Draft]:
        for module, needed in self.modules():
            voltages = module_voltages(module, self.need.site, self.electrical)
            dc_w = needed * module.power_w
            for units in range(1, self.kits.max_inverters_per_option + 1):
                for inverter in self.string_inverters(dc_w, units):
                    draft = self.string_draft(module, voltages, needed, inverter, units)
                    if draft is not None:
                        yield draft
            if not self.need.include_microinverters:
                continue
            fitting = (m for m in self.micros if self.ratio_ok(m.inputs * module.power_w, m.ac_power_w))
            for micro in islice(fitting, self.kits.max_inverter_candidates):
                draft = self.micro_draft(module, voltages, needed, micro)
                if draft is not None:
                    yield draft


def _pick(listing: Listing, quantity: int) -> Pick | None:
    offer = listing.offer_for(quantity)
    return Pick(listing, quantity, offer) if offer else None


def compose_kits(index: EquipmentIndex, need: KitNeed, params: SolarParameters) -> KitSearchResult:
    """Ranked kit options (best first, at most `max_options`): composed and pre-built, all checks passing."""
    search = _Search(index, need, params)
    notes = []
    if not search.bos.has_structures:
        notes.append(f"no structure in stock for roof type {need.roof_type!r}: no composed kit")
    drafts = (
        sorted(search.drafts(), key=Draft.rank)[: params.kits.max_options]
        if search.bos.has_structures
        else []
    )
    options = [render_option(d.module, d.inverter, d.layout, d.picks, need, params) for d in drafts]
    if need.include_prebuilt:
        options += prebuilt_options(index, need, params)
    options = [option for option in options if all(check.ok for check in option.checks)]
    options.sort(key=lambda o: (o.price_per_wp, o.lead_time_days, o.total_price_brl, o.title))
    if not options:
        notes.append("no option passes every check: widen the power tolerance or the DC/AC window")
    return KitSearchResult(
        options=options[: params.kits.max_options], candidates_evaluated=search.evaluated, notes=notes
    )
