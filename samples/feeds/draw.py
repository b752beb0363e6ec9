"""The generator's draws from one seed, in their fixed order (products, then offers), for every consumer:
the feeds written to disk, the homologação cases' equipment, the tests' catalog of the real size."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from catalog.feeds import FEEDS_FILE, FeedsFile, load_feeds_file
from catalog.identity import brand_alias_index
from samples.feeds.distributors import DISTRIBUTORS
from samples.feeds.market import Market, SampleOffer, SampleProduct, load_market
from samples.feeds.offers import assign_offers
from samples.feeds.products import build_products


@dataclass
class SampleDraw:
    rng: random.Random  # where the draw stands: after the products, before the offers
    market: Market
    feeds: FeedsFile
    aliases: dict[str, str]
    products: list[SampleProduct]

    def offers(self) -> dict[str, list[SampleOffer]]:
        """Offers per distributor, in catalog order (the next draws of the same seed)."""
        skus = {distributor.name: distributor.sku for distributor in DISTRIBUTORS}
        return assign_offers(self.rng, self.market, self.products, self.feeds.brands, self.aliases, skus)


def draw_products(seed: int, products: int | None = None, feeds_config: Path = FEEDS_FILE) -> SampleDraw:
    """The sample's products (default size: market.yaml's default_products): the same seed, the same list."""
    rng = random.Random(seed)
    market = load_market()
    feeds = load_feeds_file(feeds_config)
    aliases = brand_alias_index(feeds.brands)
    count = market.default_products if products is None else products
    return SampleDraw(rng, market, feeds, aliases, build_products(rng, market, aliases, count))
