"""The router's brand cache: re-read on a timer, one read at a time.

The brand source here is a plain function standing in for the index's facet call, so the clock can
be stepped; the real index is exercised end to end in test_search_api.
"""

from __future__ import annotations

import asyncio

from services.search import KnownBrands


class Catalog:
    def __init__(self, brands: list[str]) -> None:
        self.brands = brands
        self.reads = 0

    async def facet(self) -> list[str]:
        self.reads += 1
        await asyncio.sleep(0)  # let concurrent callers interleave
        return list(self.brands)


def test_brands_are_cached_until_the_refresh_interval_passes() -> None:
    catalog = Catalog(["Growatt"])
    now = [0.0]
    known = KnownBrands(catalog.facet, refresh_s=60, clock=lambda: now[0])

    async def scenario() -> None:
        assert await known.get() == {"Growatt"}
        catalog.brands.append("Deye")
        now[0] = 59.0
        assert await known.get() == {"Growatt"}
        now[0] = 60.0
        assert await known.get() == {"Growatt", "Deye"}

    asyncio.run(scenario())
    assert catalog.reads == 2


def test_concurrent_requests_share_one_read() -> None:
    catalog = Catalog(["Growatt", "Deye"])
    known = KnownBrands(catalog.facet, refresh_s=60)

    async def scenario() -> list[frozenset[str]]:
        return await asyncio.gather(*(known.get() for _ in range(8)))

    assert asyncio.run(scenario()) == [frozenset({"Growatt", "Deye"})] * 8
    assert catalog.reads == 1
