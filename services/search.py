"""Catalog search end to end, without Serve or HTTP: plan → embed → hybrid retrieval → rank."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from catalog.facets import FACET_FIELDS
from catalog.query import QueryPlan, SearchParams, plan_query, validate_params
from catalog.ranking import SearchResult, rank
from kernel.errors import InvalidRequest
from kernel.schemas import LEXICAL_VECTOR
from kernel.vectors import FacetCount, FacetQuery, Hit, PayloadFilter, SearchRequest, WideningSearch

EmbedQuery = Callable[[str], Awaitable[list[float]]]


@dataclass(frozen=True)
class SearchPage:
    results: list[SearchResult]
    did_you_mean: str | None  # the query as read, when a mistyped word was taken for a known one
    facets: dict[str, list[FacetCount]] | None = None  # counts per value, when asked for


class CatalogIndex(Protocol):
    async def search_widening(self, widening: WideningSearch) -> list[Hit]: ...

    async def facets(self, query: FacetQuery) -> dict[str, list[FacetCount]]: ...

    async def brands(self) -> list[str]: ...


class KnownBrands:
    """The catalog's brands, re-read at most every `refresh_s`: a new catalog shows up without a restart."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[list[str]]],
        refresh_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._refresh_s = refresh_s
        self._clock = clock
        self._brands: frozenset[str] = frozenset()
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()  # one refresh at a time; concurrent requests wait for its result

    def _fresh(self) -> bool:
        return self._fetched_at is not None and self._clock() - self._fetched_at < self._refresh_s

    async def get(self) -> frozenset[str]:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    self._brands = frozenset(await self._fetch())
                    self._fetched_at = self._clock()
        return self._brands


class CatalogSearch:
    def __init__(
        self,
        *,
        embed: EmbedQuery,
        index: CatalogIndex,
        vector_name: str,
        brands_refresh_s: float,
        candidates: int,
        rank_pool: int,
    ) -> None:
        self._embed = embed
        self._index = index
        self._vector_name = vector_name
        self._candidates = candidates
        self._rank_pool = rank_pool
        self.known_brands = KnownBrands(index.brands, brands_refresh_s)

    async def search(self, params: SearchParams, *, facets: bool = False) -> SearchPage:
        """The ranked page; with `facets`, also how many products per category, brand, power band and
        stock match the filters the page was drawn from (the caller's and those the text implied, the
        widest power window), counted by the index alongside the search."""
        try:
            validate_params(params)
        except ValueError as error:
            raise InvalidRequest(str(error)) from None
        plan = plan_query(params, await self.known_brands.get())

        async def ranked() -> list[SearchResult]:
            dense = await self._embed(plan.dense_text)
            widening = WideningSearch(
                # A tight power window first, widened until the page can be filled: candidates come by
                # text similarity, and a wide window could crowd out the products closest in power.
                steps=tuple(self._request(plan, dense, f) for f in (*plan.narrow_filters, plan.filter)),
                enough=plan.limit,
                # What the text suggested (a brand, a power window) matched nothing: fall back to what the
                # caller asked for explicitly rather than answer with an empty page.
                fallback=(
                    self._request(plan, dense, plan.explicit_filter)
                    if plan.explicit_filter != plan.filter
                    else None
                ),
            )
            return rank(await self._index.search_widening(widening), plan, params.limit)

        if not facets:
            return SearchPage(await ranked(), plan.read_as)
        # The counts need the filters only, not the query's embedding: they start with it.
        results, counts = await asyncio.gather(
            ranked(), self._index.facets(FacetQuery(FACET_FIELDS, plan.filter))
        )
        return SearchPage(results, plan.read_as, counts)

    def _request(self, plan: QueryPlan, dense: list[float], payload_filter: PayloadFilter) -> SearchRequest:
        return SearchRequest(
            # Ranking reorders by power, code and brand, so it sees more than the page it returns.
            limit=max(plan.limit, self._rank_pool),
            dense_name=self._vector_name,
            dense=dense,
            sparse_name=LEXICAL_VECTOR if plan.sparse is not None else None,
            sparse=plan.sparse,
            filter=payload_filter,
            candidates=self._candidates,
        )
