"""Catalog products as the kit composer sees them: typed electrical parts with their in-stock offers.

`EquipmentIndex.build(items)` runs once per catalog snapshot (it parses specs, drops what cannot be used
and sorts), so that each recommendation only filters and combines. Stock changes mean a new snapshot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kernel.numbers import parse_decimal
from kernel.text import fold
from solar.offers import CatalogItem, Listing, usable_listing
from solar.text import alnum_key


@dataclass(frozen=True)
class Module:
    listing: Listing
    power_w: float
    voc_v: float
    isc_a: float
    vmp_v: float
    imp_a: float
    temp_coeff_voc_pct_per_c: float | None


@dataclass(frozen=True)
class Inverter:
    """A string inverter or a microinverter. `max_dc_current_a` is per MPPT; `inputs` is the number of
    modules one microinverter takes (1 for string inverters, where strings are sized instead)."""

    listing: Listing
    ac_power_w: float
    max_dc_voltage_v: float
    mppt_low_v: float
    mppt_high_v: float
    mppt_count: int
    max_dc_current_a: float
    ac_voltage_v: float
    phases: int
    micro: bool
    inputs: int = 1


@dataclass(frozen=True)
class Structure:
    listing: Listing
    roof_type: str
    module_slots: int


@dataclass(frozen=True)
class StringBox:
    listing: Listing
    inputs: int
    max_dc_voltage_v: float | None
    max_dc_current_a: float | None


@dataclass(frozen=True)
class Cable:
    listing: Listing
    section_mm2: float
    length_m: float


@dataclass(frozen=True)
class PrebuiltKit:
    listing: Listing
    power_w: float
    roof_type: str | None
    ac_voltage_v: float | None
    phases: int | None
    components: tuple[tuple[str, str, str, int], ...]  # category, brand, model, quantity


Part = Module | Inverter | Structure | StringBox | Cable | PrebuiltKit


class MissingSpec(ValueError):
    pass


def as_number(value: Any) -> float | None:
    """A spec value as a number: numbers as they are, text with a decimal comma or point; else None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            # Spec values print decimals with a dot (`5.125` kW), never grouped thousands.
            return parse_decimal(value, dots_group_thousands=False)
        except ValueError:
            return None
    return None


def _number(specs: Mapping[str, Any], key: str, default: float | None = None) -> float:
    value = as_number(specs.get(key))
    if value is not None:
        return value
    if default is not None:
        return default
    raise MissingSpec(f"{key} missing or not a number")


def _optional(specs: Mapping[str, Any], key: str) -> float | None:
    try:
        return _number(specs, key)
    except MissingSpec:
        return None


def roof_key(roof_type: str) -> str:
    """`Cerâmico` → `ceramico`: roof types compare without accents, case or spaces."""
    return fold(roof_type).replace(" ", "_")


def part_key(brand: str, model: str) -> tuple[str, str]:
    return alnum_key(brand), alnum_key(model)


def _components(specs: Mapping[str, Any]) -> tuple[tuple[str, str, str, int], ...]:
    listed = specs.get("components") or []
    return tuple(
        (
            str(c.get("category", "")),
            str(c.get("brand", "")),
            str(c.get("model", "")),
            int(c.get("quantity", 1)),
        )
        for c in listed
        if isinstance(c, Mapping)
    )


def _part(item: CatalogItem, listing: Listing, slots_default: int) -> Part | None:
    specs, category = item.specs, item.category
    if category == "module":
        return Module(
            listing,
            power_w=_number(specs, "power_w"),
            voc_v=_number(specs, "voc_v"),
            isc_a=_number(specs, "isc_a"),
            vmp_v=_number(specs, "vmp_v"),
            imp_a=_number(specs, "imp_a"),
            temp_coeff_voc_pct_per_c=_optional(specs, "temp_coeff_voc_pct_per_c"),
        )
    if category in ("inverter", "microinverter"):
        micro = category == "microinverter"
        mppts = int(_number(specs, "mppt_count", 1))
        return Inverter(
            listing,
            ac_power_w=_number(specs, "power_w"),
            max_dc_voltage_v=_number(specs, "max_dc_voltage_v"),
            mppt_low_v=_number(specs, "mppt_low_v"),
            mppt_high_v=_number(specs, "mppt_high_v"),
            mppt_count=mppts,
            max_dc_current_a=_number(specs, "max_dc_current_a"),
            ac_voltage_v=_number(specs, "ac_voltage_v"),
            phases=int(_number(specs, "phases")),
            micro=micro,
            inputs=int(_number(specs, "string_inputs", mppts)) if micro else 1,
        )
    if category == "structure":
        roof = specs.get("roof_type")
        if not isinstance(roof, str) or not roof.strip():
            raise MissingSpec("roof_type missing")
        return Structure(listing, roof_key(roof), int(_number(specs, "module_slots", slots_default)))
    if category == "string_box":
        return StringBox(
            listing,
            inputs=int(_number(specs, "string_inputs")),
            max_dc_voltage_v=_optional(specs, "max_dc_voltage_v"),
            max_dc_current_a=_optional(specs, "max_dc_current_a"),
        )
    if category == "cable":
        return Cable(listing, _number(specs, "section_mm2"), _number(specs, "length_m"))
    if category == "kit":
        roof, phases = specs.get("roof_type"), _optional(specs, "phases")
        return PrebuiltKit(
            listing,
            power_w=_number(specs, "power_w"),
            roof_type=roof_key(roof) if isinstance(roof, str) else None,
            ac_voltage_v=_optional(specs, "ac_voltage_v"),
            phases=int(phases) if phases is not None else None,
            components=_components(specs),
        )
    return None  # batteries, hybrids, controllers, connectors: not part of a grid-tied kit here


_T = TypeVar("_T")


def _price(listing: Listing) -> float:
    return listing.offers[0].price_brl or 0.0


@dataclass
class EquipmentIndex:
    """The usable parts of one catalog snapshot, sorted for the composer's bounded search."""

    modules: list[Module]  # cheapest price per Wp first
    inverters: list[Inverter]  # string inverters, by AC power
    inverter_powers: list[float]  # their AC powers, for bisection
    microinverters: list[Inverter]  # cheapest first
    structures: dict[str, list[Structure]]  # roof type → structures, cheapest first
    string_boxes: list[StringBox]  # cheapest first
    cables: list[Cable]  # cheapest first
    kits: list[PrebuiltKit]  # by DC power
    kit_powers: list[float]  # their DC powers, for bisection
    parts_by_key: dict[tuple[str, str], Module | Inverter]  # (brand, model) keys, to resolve kit components
    skipped: Counter[str]  # why items were left out, with counts
    listings: dict[str, Listing]  # every product by id, in stock or not (quotes price any product)
    parts_by_id: dict[str, Part]  # every product whose specs make it a kit part, in stock or not
    _shared: dict[Hashable, Any] = field(default_factory=dict, repr=False, compare=False)

    def shared(self, key: Hashable, build: Callable[[], _T]) -> _T:
        """What `build` makes of this snapshot for `key` (the inverters of a grid connection, the balance of
        system of a roof), made once and kept for later requests: a snapshot never changes, a new catalog
        is a new index. Requests in threads may both build a missing entry; either result is the same."""
        if key not in self._shared:
            self._shared[key] = build()
        value: _T = self._shared[key]
        return value

    @classmethod
    def build(
        cls, items: Iterable[CatalogItem | Mapping[str, Any]], *, module_slots_default: int = 1
    ) -> EquipmentIndex:
        parts: dict[type, list[Any]] = {}
        skipped: Counter[str] = Counter()
        electrical: dict[tuple[str, str], Module | Inverter] = {}
        listings: dict[str, Listing] = {}
        parts_by_id: dict[str, Part] = {}
        for raw in items:
            item = raw if isinstance(raw, CatalogItem) else CatalogItem.model_validate(raw)
            listing = usable_listing(item)
            listings[item.id] = listing
            try:
                part = _part(item, listing, module_slots_default)
            except MissingSpec as error:
                skipped[f"{item.category}: {error}"] += 1
                continue
            if isinstance(part, Module | Inverter):  # kit components resolve even when sold out alone
                electrical.setdefault(part_key(item.brand, item.model), part)
            if part is None:
                continue
            parts_by_id[item.id] = part
            if not listing.offers:
                skipped[f"{item.category}: no priced offer in stock"] += 1
            else:
                parts.setdefault(type(part), []).append(part)
        modules: list[Module] = sorted(parts.get(Module, []), key=lambda m: _price(m.listing) / m.power_w)
        every_inverter: list[Inverter] = parts.get(Inverter, [])
        inverters = sorted(
            (i for i in every_inverter if not i.micro), key=lambda i: (i.ac_power_w, _price(i.listing))
        )
        structures: dict[str, list[Structure]] = {}
        for structure in sorted(parts.get(Structure, []), key=lambda s: _price(s.listing) / s.module_slots):
            structures.setdefault(structure.roof_type, []).append(structure)
        kits: list[PrebuiltKit] = sorted(parts.get(PrebuiltKit, []), key=lambda k: k.power_w)
        return cls(
            modules=modules,
            inverters=inverters,
            inverter_powers=[inverter.ac_power_w for inverter in inverters],
            microinverters=sorted((i for i in every_inverter if i.micro), key=lambda i: _price(i.listing)),
            structures=structures,
            string_boxes=sorted(parts.get(StringBox, []), key=lambda b: _price(b.listing)),
            cables=sorted(parts.get(Cable, []), key=lambda c: _price(c.listing) / c.length_m),
            kits=kits,
            kit_powers=[kit.power_w for kit in kits],
            parts_by_key=electrical,
            skipped=skipped,
            listings=listings,
            parts_by_id=parts_by_id,
        )
