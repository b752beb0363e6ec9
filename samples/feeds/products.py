"""The sample's products, a chunk at a time: each chunk's products split over the categories by market.yaml's
shares, modules and string inverters partly from today's lines by current.yaml's shares.

Every category is a stream (samples.feeds.variants): its listed products (CEC rows, today's lines, the
families' combinations) in a shuffled order, then variants of them, so any count can be met. Kits are built
from the parts of their own chunk.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace

from catalog.identity import normalize_brand, normalize_model
from kernel.schemas import Category
from samples.feeds.cec import cec_inverters, cec_modules
from samples.feeds.current import current_inverters, current_modules, load_current
from samples.feeds.families import SYNTHETIC, hybrid_inverters
from samples.feeds.kits import compose_kits
from samples.feeds.market import Market, Range, SampleProduct, SpecItem
from samples.feeds.variants import CategoryStream, Identities


def _priced(
    rng: random.Random, price_range: Callable[[str], Range], category: Category, item: SpecItem
) -> SampleProduct:
    power = item.specs["power_w"]
    if category == "module":
        price = rng.uniform(*price_range("module_per_wp")) * power
    elif category == "microinverter":
        price = rng.uniform(*price_range("microinverter_per_w")) * power
    else:
        base, per_w = price_range("inverter_base"), price_range("inverter_per_w")
        price = rng.uniform(*base) + rng.uniform(*per_w) * power
    return SampleProduct(category, item.brand, item.model, item.specs, round(price, 2))


def _canonical(item: SampleProduct, aliases: Mapping[str, str]) -> SampleProduct:
    """The brand and model as the parser will normalise them, so the sample's truth matches its output."""
    return replace(item, brand=normalize_brand(item.brand, aliases), model=normalize_model(item.model))


class ProductDraw:
    """Where the sample's products come from: per category a stream of products, drawn chunk after chunk."""

    def __init__(self, rng: random.Random, market: Market, aliases: Mapping[str, str]) -> None:
        self.rng, self.market, self.aliases = rng, market, aliases
        self.identities = Identities()
        current = load_current()
        today_inverters = current_inverters(current)
        lines = {
            "module": [
                _priced(rng, current.price_range, "module", item) for item in current_modules(current, market)
            ],
            "inverter": [_priced(rng, current.price_range, "inverter", item) for item in today_inverters],
        }
        strings, micros = cec_inverters(market, aliases)
        listed = {
            "module": [
                _priced(rng, market.price_range, "module", item) for item in cec_modules(market, aliases)
            ],
            "inverter": [_priced(rng, market.price_range, "inverter", item) for item in strings],
            "microinverter": [_priced(rng, market.price_range, "microinverter", item) for item in micros],
            "hybrid_inverter": hybrid_inverters(rng, market, today_inverters + strings),
            **{category: make(rng, market) for category, make in SYNTHETIC.items()},
        }
        self.share = current.share
        # Today's lines first: a model they share with a CEC row (or a brand's module with its AC-module
        # inverter) stays the first product only.
        self.lines = {category: self._stream(pool) for category, pool in lines.items()}
        self.streams = {category: self._stream(pool) for category, pool in listed.items()}

    def _stream(self, pool: list[SampleProduct]) -> CategoryStream:
        unique = [
            item for item in (_canonical(raw, self.aliases) for raw in pool) if self.identities.claim(item)
        ]
        self.rng.shuffle(unique)
        return CategoryStream(self.rng, self.market.variants, unique, self.identities.claim)

    def _take(self, category: str, wanted: int) -> list[SampleProduct]:
        from_lines = (
            self.lines[category].take(round(wanted * self.share[category])) if category in self.lines else []
        )
        return from_lines + self.streams[category].take(wanted - len(from_lines))

    def _admitted(self, kit: SampleProduct) -> SampleProduct | None:
        kit = _canonical(kit, self.aliases)
        return kit if self.identities.claim(kit) else None

    def chunk(self, count: int) -> list[SampleProduct]:
        """`count` products (fewer only when kits cannot be composed), in a shuffled order. Modules take
        whatever the other categories leave, and kits are built from the parts chosen here."""
        quotas: dict[str, int] = {
            category: round(count * share) for category, share in self.market.category_shares.items()
        }
        chosen = {
            category: self._take(category, quotas.get(category, 0))
            for category in self.streams
            if category != "module"
        }
        kit_quota = quotas.get("kit", 0)
        chosen["module"] = self._take("module", max(count - kit_quota - sum(map(len, chosen.values())), 0))
        products = [item for items in chosen.values() for item in items]
        products += compose_kits(self.rng, self.market, kit_quota, chosen, self._admitted)
        self.rng.shuffle(products)
        return products


def product_chunks(
    rng: random.Random, market: Market, aliases: Mapping[str, str], count: int, chunk: int
) -> Iterator[list[SampleProduct]]:
    """`count` distinct products, `chunk` at a time."""
    draw = ProductDraw(rng, market, aliases)
    for start in range(0, count, chunk):
        yield draw.chunk(min(chunk, count - start))
