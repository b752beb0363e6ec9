"""The storefront's filter panel: which payload fields search counts per value, and the power bands.

Power is a float, and a panel lists ranges, not every wattage: each product gets the band of its
category its rated power falls in (module Pmax, inverter AC power, kit DC power), stored in its
payload, so the index counts bands as it counts brands.
"""

from __future__ import annotations

import math

FACET_FIELDS = ("category", "brand", "power_band", "in_stock")

# Per category: (upper bound in W, inclusive, label), in order.
POWER_BANDS: dict[str, tuple[tuple[float, str], ...]] = {
    "module": ((400, "até 400 W"), (500, "401–500 W"), (600, "501–600 W"), (math.inf, "acima de 600 W")),
    "inverter": ((5000, "até 5 kW"), (10000, "5–10 kW"), (30000, "10–30 kW"), (math.inf, "acima de 30 kW")),
    "hybrid_inverter": ((5000, "até 5 kW"), (10000, "5–10 kW"), (math.inf, "acima de 10 kW")),
    "microinverter": ((1000, "até 1 kW"), (math.inf, "acima de 1 kW")),
    "kit": ((3000, "até 3 kWp"), (6000, "3–6 kWp"), (10000, "6–10 kWp"), (math.inf, "acima de 10 kWp")),
}


def power_band(category: str, power_w: float | None) -> str | None:
    """The band of `power_w` among its category's; None for a category without bands or no power."""
    bands = POWER_BANDS.get(category)
    if not bands or power_w is None or power_w <= 0:
        return None
    return next(label for upper, label in bands if power_w <= upper)
