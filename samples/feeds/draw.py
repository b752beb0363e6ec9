"""The generator's draws from one seed, for every consumer: the feeds written to disk, the homologação cases'
equipment, the tests' catalog of the real size.

Products, offers and defects each draw from their own generator seeded from the seed, so the products are
the same whether or not their offers are drawn too. Products come CHUNK_PRODUCTS at a time (see
samples.feeds.products): a catalog of a million is written without holding it all.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from catalog.feeds import FEEDS_FILE, FeedsFile, load_feeds_file
from catalog.identity import brand_alias_index
from samples.feeds.distributors import DISTRIBUTORS
from samples.feeds.market import Market, SampleOffer, SampleProduct, load_market
from samples.feeds.offers import assign_offers
from samples.feeds.products import product_chunks

# Products drawn, listed and written at a time. The default sample (11,600) is one chunk; larger catalogs
# keep one chunk's listings in memory, however many chunks they have.
CHUNK_PRODUCTS = 20_000

Offers = dict[str, list[SampleOffer]]  # distributor -> its offers, in catalog order


@dataclass
class SampleDraw:
    seed: int
    count: int
    market: Market
    feeds: FeedsFile
    aliases: dict[str, str]

    def rng(self, purpose: str) -> random.Random:
        """A generator of its own for offers or defects: the same seed, another sequence."""
        return random.Random(f"{self.seed}/{purpose}")

    def product_chunks(self) -> Iterator[list[SampleProduct]]:
        """The products, CHUNK_PRODUCTS at a time, drawn anew (the same ones) on every call."""
        return product_chunks(random.Random(self.seed), self.market, self.aliases, self.count, CHUNK_PRODUCTS)

    def listed_chunks(self) -> Iterator[tuple[list[SampleProduct], Offers]]:
        """Each chunk's products with their offers, which continue the SKUs of the chunks before."""
        rng, issued = self.rng("offers"), Counter[str]()
        for products in self.product_chunks():
            yield products, self._offers(rng, products, issued)

    @cached_property
    def products(self) -> list[SampleProduct]:
        """Every product, in catalog order."""
        return [product for chunk in self.product_chunks() for product in chunk]

    def offers(self) -> Offers:
        """Offers of every product per distributor, in catalog order: those listed_chunks gives, together."""
        return self._offers(self.rng("offers"), self.products, Counter())

    def _offers(self, rng: random.Random, products: list[SampleProduct], issued: Counter[str]) -> Offers:
        skus = {distributor.name: distributor.sku for distributor in DISTRIBUTORS}
        return assign_offers(rng, self.market, products, self.feeds.brands, self.aliases, skus, issued)


def draw_products(seed: int, products: int | None = None, feeds_config: Path = FEEDS_FILE) -> SampleDraw:
    """The sample's draws (default size: market.yaml's default_products): the same seed, the same lists."""
    market = load_market()
    feeds = load_feeds_file(feeds_config)
    count = market.default_products if products is None else products
    return SampleDraw(seed, count, market, feeds, brand_alias_index(feeds.brands))
