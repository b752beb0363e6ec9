"""The equipment of the sample packages: products of the sample catalog that `make run` loads
(`python -m samples.feeds`, seed 42), so a package checked against that catalog finds them.

They are picked from the generator's own product list, which is the catalog's truth (a feed may spell a
brand or a model its way, but parsing brings it back to the same product id and specs): no feed is
written or parsed, and picking takes about 0.4 s, once per process. The picks are rules, not names, so
they follow the generator when it changes; tests/homologacao/test_samples.py checks them against the
catalog built from the feeds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from catalog.identity import product_id
from homologacao.case import Equipment, equipment_from_specs
from samples.feeds.draw import draw_products
from samples.feeds.market import SampleProduct

SEED = 42  # the seed of `make run`'s sample (Makefile SEED, the default of `python -m samples.feeds`)
TYPICAL_INVERTER_W = 5000.0  # a residential system, as most homologação requests are
TYPICAL_MODULE_W = 450.0


@dataclass(frozen=True)
class SampleEquipment:
    inverter: Equipment  # a single-phase 220 V string inverter near TYPICAL_INVERTER_W
    module: Equipment  # a module near TYPICAL_MODULE_W
    three_phase_inverter: Equipment  # a three-phase 380 V string inverter near TYPICAL_INVERTER_W
    largest_inverter: Equipment  # the most powerful three-phase string inverter (a minigeração plant's)


def _pick(
    products: Sequence[SampleProduct], rank: Callable[[float], float], category: str, **specs: object
) -> Equipment:
    """The product of `category` with these spec values that ranks first by power (ties: the sample's
    order), as the catalog describes it."""
    found = min(
        (
            p
            for p in products
            if p.category == category and all(p.specs.get(k) == v for k, v in specs.items())
        ),
        key=lambda p: rank(p.specs["power_w"]),
    )
    return equipment_from_specs(
        product_id(found.brand, found.model), found.category, found.brand, found.model, found.specs
    )


@cache
def sample_equipment() -> SampleEquipment:
    products = draw_products(SEED).products  # the products `make run`'s feeds list

    def near(watts: float) -> Callable[[float], float]:
        return lambda power_w: abs(power_w - watts)

    return SampleEquipment(
        inverter=_pick(products, near(TYPICAL_INVERTER_W), "inverter", phases=1, ac_voltage_v=220.0),
        module=_pick(products, near(TYPICAL_MODULE_W), "module"),
        three_phase_inverter=_pick(
            products, near(TYPICAL_INVERTER_W), "inverter", phases=3, ac_voltage_v=380.0
        ),
        largest_inverter=_pick(products, lambda power_w: -power_w, "inverter", phases=3, ac_voltage_v=380.0),
    )
