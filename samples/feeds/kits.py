"""Kits ("geradores"): N modules + a string inverter sized to a DC/AC ratio + structure + string box + cables.

Every component is a product of the same sample (drawn in the kit's own chunk), so a kit's component list
points at real listings.
"""

from __future__ import annotations

import math
import random
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence

from samples.feeds.market import Market, SampleProduct


def _inverter_for(
    rng: random.Random,
    market: Market,
    inverters: Sequence[SampleProduct],
    powers: Sequence[float],
    dc_w: float,
) -> SampleProduct:
    """An inverter within the DC/AC ratio window; `inverters` are sorted by AC power (`powers`)."""
    low, high = market.families.kit.dc_ac_ratio
    first, last = bisect_left(powers, dc_w / high), bisect_right(powers, dc_w / low)
    if first < last:
        return inverters[rng.randrange(first, last)]
    return inverters[min(first, len(inverters) - 1)]


def _cable_line(cable: SampleProduct) -> tuple[object, ...]:
    """What a red and a black roll of the same cable share."""
    return (cable.brand, *(cable.specs[k] for k in ("section_mm2", "length_m", "voltage_kv")))


def _cables(rng: random.Random, lines: list[list[SampleProduct]]) -> list[tuple[SampleProduct, int]]:
    """A red and a black roll of one cable when the sample has both colours, else two rolls of one."""
    rolls = rng.choice(lines)
    return [(roll, 1) for roll in rolls] if len(rolls) > 1 else [(rolls[0], 2)]


def _code(part: SampleProduct) -> str:
    return re.sub(r"[^A-Z0-9]", "", part.model)[:10]


def compose_kits(
    rng: random.Random,
    market: Market,
    count: int,
    parts: dict[str, list[SampleProduct]],
    admit: Callable[[SampleProduct], SampleProduct | None],
) -> list[SampleProduct]:
    """Up to `count` kits from the modules, inverters, structures, string boxes and cables given; `admit`
    returns a kit as the sample keeps it, or None when the sample holds that kit already."""
    family = market.families.kit
    needed = ("module", "inverter", "structure", "string_box", "cable")
    if count <= 0 or any(not parts.get(category) for category in needed):
        return []
    modules = [m for m in parts["module"] if m.specs["power_w"] >= family.module_min_w] or parts["module"]
    inverters = sorted(parts["inverter"], key=lambda inverter: inverter.specs["power_w"])
    powers = [inverter.specs["power_w"] for inverter in inverters]
    structures_by_roof: dict[str, list[SampleProduct]] = {}
    for structure in parts["structure"]:
        structures_by_roof.setdefault(structure.specs["roof_type"], []).append(structure)
    roofs = sorted(structures_by_roof)
    rolls_by_line: dict[tuple[object, ...], list[SampleProduct]] = {}
    kit_rolls = [c for c in parts["cable"] if c.specs["length_m"] in family.cable_length_m] or parts["cable"]
    for cable in kit_rolls:
        rolls_by_line.setdefault(_cable_line(cable), []).append(cable)
    cable_lines = [rolls_by_line[line] for line in sorted(rolls_by_line, key=str)]
    boxes = parts["string_box"]
    boxes_for = {  # strings of a kit size -> the string boxes with inputs enough (all, if none has)
        strings: [b for b in boxes if b.specs["string_inputs"] >= strings] or boxes
        for strings in {math.ceil(size / family.modules_per_string) for size in family.modules}
    }
    kits: list[SampleProduct] = []
    for _attempt in range(count * 3):
        if len(kits) == count:
            break
        brand, prefix = rng.choice(sorted(family.brands.items()))
        module, module_count, roof = rng.choice(modules), rng.choice(family.modules), rng.choice(roofs)
        dc_w = module.specs["power_w"] * module_count
        inverter = _inverter_for(rng, market, inverters, powers, dc_w)
        structure = rng.choice(structures_by_roof[roof])
        strings = math.ceil(module_count / family.modules_per_string)
        components = [
            (module, module_count),
            (inverter, 1),
            (structure, math.ceil(module_count / structure.specs["module_slots"])),
            (rng.choice(boxes_for[strings]), 1),
            *_cables(rng, cable_lines),
        ]
        roof_code = market.families.structure.roof_types[roof]
        model = f"{prefix}{dc_w / 1000:.2f}K-{_code(module)}-{_code(inverter)}-{roof_code}"
        specs = {
            "power_w": dc_w,
            "roof_type": roof,
            "ac_voltage_v": inverter.specs["ac_voltage_v"],
            "phases": inverter.specs["phases"],
            "module_count": module_count,
        }
        parts_price = sum(part.reference_price * quantity for part, quantity in components)
        price = round(parts_price * rng.uniform(*market.price_range("kit_discount")), 2)
        kit = admit(SampleProduct("kit", brand, model, specs, price, tuple(components)))
        if kit is not None:
            kits.append(kit)
    return kits
