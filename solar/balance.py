"""Balance of system for a composed kit: the cheapest in-stock structure, string box and DC cable.

One `BalanceOfSystem` serves one request: answers are memoised, because many module × inverter pairs
ask the same questions (structure for 12 modules, box for 2 strings of 480 V…).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass

from solar.equipment import Cable, EquipmentIndex, StringBox, Structure
from solar.offers import Listing, OfferTerms
from solar.parameters import KitSearchParameters


@dataclass(frozen=True)
class Pick:
    """`quantity` units of a listing bought from `offer`."""

    listing: Listing
    quantity: int
    offer: OfferTerms

    @property
    def cost_brl(self) -> float:
        return self.quantity * (self.offer.price_brl or 0.0)


def _cheapest(picks: list[Pick]) -> Pick | None:
    return min(picks, key=lambda p: (p.cost_brl, p.offer.lead_time_days, p.listing.id), default=None)


class BalanceOfSystem:
    def __init__(self, index: EquipmentIndex, roof_type: str, params: KitSearchParameters) -> None:
        self._structures: list[Structure] = index.structures.get(roof_type, [])
        self._boxes: list[StringBox] = index.string_boxes
        self._cables: list[Cable] = [
            c
            for c in index.cables
            if params.min_cable_section_mm2 <= c.section_mm2 <= params.max_cable_section_mm2
            and c.length_m > 0
        ]
        self._params = params
        self._structure_memo: dict[int, Pick | None] = {}
        self._box_memo: dict[tuple[int, int, float, float], Pick | None] = {}
        self._voltage_classes = sorted(
            {b.max_dc_voltage_v for b in self._boxes if b.max_dc_voltage_v} | {math.inf}
        )
        self._current_classes = sorted(
            {b.max_dc_current_a for b in self._boxes if b.max_dc_current_a} | {math.inf}
        )
        self._cable_memo: dict[int, Pick | None] = {}

    @property
    def has_structures(self) -> bool:
        return bool(self._structures)

    def structure(self, modules: int) -> Pick | None:
        """Enough units of one structure model to hold `modules` modules, at the lowest total."""
        if modules not in self._structure_memo:
            picks = []
            for structure in self._structures:
                quantity = math.ceil(modules / structure.module_slots)
                offer = structure.listing.offer_for(quantity)
                if offer is not None:
                    picks.append(Pick(structure.listing, quantity, offer))
            self._structure_memo[modules] = _cheapest(picks)
        return self._structure_memo[modules]

    def string_box(
        self, strings_per_inverter: int, inverters: int, voc_v: float, current_a: float
    ) -> Pick | None:
        """Enough boxes for an input per string on every inverter, rated for the string's cold Voc and
        current, at the lowest total. A box that states no rating is taken as fit (the listing is all we
        know); inverters with built-in DC protection still get a box, which errs on the side of safety."""
        # Ratings come in a few classes (600/1000/1500 V; 16/25/32 A): key the memo by the class needed.
        voltage_class = self._voltage_classes[bisect_left(self._voltage_classes, voc_v - 1e-9)]
        current_class = self._current_classes[bisect_left(self._current_classes, current_a - 1e-9)]
        key = (strings_per_inverter, inverters, voltage_class, current_class)
        if key not in self._box_memo:
            picks = []
            for box in self._boxes:
                if (box.max_dc_voltage_v is not None and box.max_dc_voltage_v < voltage_class) or (
                    box.max_dc_current_a is not None and box.max_dc_current_a < current_class
                ):
                    continue
                quantity = inverters * math.ceil(strings_per_inverter / box.inputs)
                offer = box.listing.offer_for(quantity)
                if offer is not None:
                    picks.append(Pick(box.listing, quantity, offer))
            self._box_memo[key] = _cheapest(picks)
        return self._box_memo[key]

    def cable(self, strings: int) -> Pick | None:
        """Rolls of one cable covering `dc_cable_m_per_string` metres per string (both polarities)."""
        if strings not in self._cable_memo:
            metres = strings * self._params.dc_cable_m_per_string
            picks = []
            for cable in self._cables:
                rolls = max(1, math.ceil(metres / cable.length_m - 1e-9))
                offer = cable.listing.offer_for(rolls)
                if offer is not None:
                    picks.append(Pick(cable.listing, rolls, offer))
            self._cable_memo[strings] = _cheapest(picks) if metres > 0 else None
        return self._cable_memo[strings]
