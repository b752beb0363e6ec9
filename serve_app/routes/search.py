"""GET /store/helio/search: the catalog search (`services.search.CatalogSearch`)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from catalog.query import MAX_LIMIT, MAX_QUERY_CHARS, SearchParams
from catalog.ranking import SearchResult
from kernel.schemas import Category
from serve_app.errors import ErrorBody
from serve_app.routes import service_on_state
from services.search import CatalogSearch


class SearchQuery(BaseModel):
    q: str = Field(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description="What the customer typed, e.g. `inversor 5 kW trifásico` or `painel 550W`.",
    )
    limit: int = Field(default=10, ge=1, le=MAX_LIMIT, description="How many products to return.")
    category: Category | None = Field(default=None, description="Only products of this category.")
    brand: str | None = Field(
        default=None, max_length=100, description="Only this brand (case and accents ignored)."
    )
    min_power_w: float | None = Field(
        default=None,
        ge=0,
        description="Lowest rated power in W (module Pmax, inverter AC power, kit DC power).",
    )
    max_power_w: float | None = Field(default=None, ge=0, description="Highest rated power in W.")
    in_stock: bool | None = Field(
        default=None,
        description="true: only products some distributor has in stock; false: only those none has.",
    )
    facets: bool = Field(
        default=False,
        description="true: also count the matching products per category, brand, power band and stock "
        "(`facets` in the response), for a filter panel; a search box's suggestions leave it off.",
    )

    def to_params(self) -> SearchParams:
        return SearchParams(**self.model_dump(exclude={"facets"}))


class FacetValue(BaseModel):
    value: str | bool | int = Field(description="A category, brand or power band; true or false: in_stock.")
    count: int = Field(description="Products matching the search's filters with this value.")


class SearchResponse(BaseModel):
    query: str = Field(description="The query as received.")
    results: list[SearchResult] = Field(
        description=(
            "Best first. `id` is the product id; `price_brl` is the lowest in-stock offer (null when no "
            "distributor has it in stock); `distributors` lists who sells it; `score` is the ranking score."
        )
    )
    did_you_mean: str | None = Field(
        default=None,
        description="The query as it was read, when a mistyped word was taken for a category, brand or "
        "phase word (`growat` → `growatt`); null when every word was read as typed.",
    )
    facets: dict[str, list[FacetValue]] | None = Field(
        default=None,
        description="With `facets=true`: for `category`, `brand`, `power_band` and `in_stock`, how many "
        "products match the filters the page was drawn from (those given and those the text implied, such "
        "as a category or a ±30 % power window) per value, most first; text similarity does not narrow them.",
    )
    took_ms: float = Field(description="Time spent in the search service, in milliseconds.")


CatalogSearchDep = Annotated[CatalogSearch, Depends(service_on_state("catalog_search", "catalog search"))]
SearchQueryDep = Annotated[SearchQuery, Query()]
routes = APIRouter()


@routes.get(
    "/store/helio/search",
    response_model=SearchResponse,
    summary="Search the product catalog",
    description="Hybrid retrieval (dense embedding + exact terms, fused with RRF), then ranking.",
    responses={422: {"model": ErrorBody, "description": "Bad query"}, 503: {"model": ErrorBody}},
    tags=["search"],
)
async def search_catalog(query: SearchQueryDep, catalog_search: CatalogSearchDep) -> SearchResponse:
    started = time.perf_counter()
    page = await catalog_search.search(query.to_params(), facets=query.facets)
    return SearchResponse(
        query=query.q,
        results=page.results,
        did_you_mean=page.did_you_mean,
        facets=(
            None
            if page.facets is None
            else {
                name: [FacetValue(value=c.value, count=c.count) for c in counts]
                for name, counts in page.facets.items()
            }
        ),
        took_ms=round((time.perf_counter() - started) * 1000, 2),
    )
