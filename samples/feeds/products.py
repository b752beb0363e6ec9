"""The sample's product list: `count` distinct products split over the categories by market.yaml's shares."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace

from catalog.identity import brand_key, model_key, normalize_brand, normalize_model
from kernel.schemas import Category
from samples.feeds.cec import CecItem, cec_inverters, cec_modules
from samples.feeds.families import SYNTHETIC, hybrid_inverters
from samples.feeds.kits import compose_kits
from samples.feeds.market import Market, SampleProduct


def _priced(rng: random.Random, market: Market, category: Category, item: CecItem) -> SampleProduct:
    power = item.specs["power_w"]
    if category == "module":
        price = rng.uniform(*market.price_range("module_per_wp")) * power
    elif category == "microinverter":
        price = rng.uniform(*market.price_range("microinverter_per_w")) * power
    else:
        base, per_w = market.price_range("inverter_base"), market.price_range("inverter_per_w")
        price = rng.uniform(*base) + rng.uniform(*per_w) * power
    return SampleProduct(category, item.brand, item.model, item.specs, round(price, 2))


def _canonical(item: SampleProduct, aliases: Mapping[str, str]) -> SampleProduct:
    """The brand and model as the parser will normalise them, so the sample's truth matches its output."""
    return replace(item, brand=normalize_brand(item.brand, aliases), model=normalize_model(item.model))


def _candidates(
    rng: random.Random, market: Market, aliases: Mapping[str, str]
) -> dict[str, list[SampleProduct]]:
    """Every product the sample could sell, per category, shuffled; kits come later, from these."""
    strings, micros = cec_inverters(market, aliases)
    pools = {
        "module": [_priced(rng, market, "module", item) for item in cec_modules(market, aliases)],
        "inverter": [_priced(rng, market, "inverter", item) for item in strings],
        "microinverter": [_priced(rng, market, "microinverter", item) for item in micros],
        "hybrid_inverter": hybrid_inverters(rng, market, strings),
        **{category: make(rng, market) for category, make in SYNTHETIC.items()},
    }
    seen: set[tuple[str, str]] = set()
    for category, pool in pools.items():
        # A brand's module and its AC-module inverter can share a model name: keep the first product only.
        unique = []
        for item in map(lambda raw: _canonical(raw, aliases), pool):
            key = (brand_key(item.brand), model_key(item.model))
            if key not in seen:
                seen.add(key)
                unique.append(item)
        rng.shuffle(unique)
        pools[category] = unique
    return pools


def build_products(
    rng: random.Random, market: Market, aliases: Mapping[str, str], count: int
) -> list[SampleProduct]:
    """`count` distinct products (fewer only when the sources run out), in a shuffled order. Modules take
    whatever the other categories leave, and kits are built from the chosen parts."""
    pools = _candidates(rng, market, aliases)
    quotas: dict[str, int] = {
        category: round(count * share) for category, share in market.category_shares.items()
    }
    chosen = {
        category: pool[: quotas.get(category, 0)] for category, pool in pools.items() if category != "module"
    }
    kit_quota = quotas.get("kit", 0)
    chosen["module"] = pools["module"][: max(count - kit_quota - sum(map(len, chosen.values())), 0)]
    products = [item for items in chosen.values() for item in items]
    products += [_canonical(kit, aliases) for kit in compose_kits(rng, market, kit_quota, chosen)]
    rng.shuffle(products)
    return products
