"""POST /store/helio/recommend, POST /store/helio/quote, GET /store/helio/products/{id}/compatible: the
kit recommender's use cases (`services.recommend`, `services.quote`), run off the event loop (CPU-bound): the
recommendation where the app composes kits (`create_search_api`'s `recommend_kits`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from serve_app.errors import ErrorBody
from serve_app.routes import service_on_state
from services.quote import MAX_COMPATIBLE, QuoteRequest, QuoteResponse, compatible_products, quote_cart
from services.recommend import KitRecommender
from services.recommend_models import RecommendRequest, RecommendResponse
from solar.compatibility import Compatibility

RecommendKits = Callable[[RecommendRequest], Awaitable[RecommendResponse]]

KitRecommenderDep = Annotated[KitRecommender, Depends(service_on_state("kit_recommender", "kit recommender"))]
RecommendKitsDep = Annotated[RecommendKits, Depends(service_on_state("recommend_kits", "kit recommender"))]
routes = APIRouter()


@routes.post(
    "/store/helio/recommend",
    response_model=RecommendResponse,
    summary="Size a system and recommend kits",
    description=(
        "Site (city/UF or nearest capital to lat/lon) → kWp after the minimum bill → kits composed from "
        "in-stock offers, every check passing → savings, payback and financing for the best option. No "
        "feasible kit answers 200 with no options and the `reason`."
    ),
    responses={422: {"model": ErrorBody, "description": "Bad request"}, 503: {"model": ErrorBody}},
    tags=["recommend"],
)
async def recommend_kits(request: RecommendRequest, recommend: RecommendKitsDep) -> RecommendResponse:
    return await recommend(request)


@routes.post(
    "/store/helio/quote",
    response_model=QuoteResponse,
    summary="Check a cart as a system and price it",
    description=(
        "Each line priced from the best in-stock offer; the modules laid out exactly on the inverters with "
        "every electrical check stated; missing inverter, modules, structure, string box or cable suggested "
        "from the catalog; with a consumption, place and connection: the size needed and the finance. "
        "Unknown product ids answer 422."
    ),
    responses={422: {"model": ErrorBody, "description": "Bad request"}, 503: {"model": ErrorBody}},
    tags=["recommend"],
)
async def quote(request: QuoteRequest, recommender: KitRecommenderDep) -> QuoteResponse:
    return await asyncio.to_thread(quote_cart, recommender, request)


@routes.get(
    "/store/helio/products/{product_id}/compatible",
    response_model=Compatibility,
    summary="What goes with a module or an inverter",
    description=(
        "For a module: string inverters and microinverters it strings well with; for an inverter: modules "
        "that string well on it; plus structures, string boxes and cables. In-stock products, cheapest "
        "first, each with the numbers that make it fit, at the design temperatures of `uf`."
    ),
    responses={
        404: {"model": ErrorBody, "description": "No such product"},
        422: {"model": ErrorBody, "description": "Not a module or inverter, or a bad parameter"},
        503: {"model": ErrorBody},
    },
    tags=["recommend"],
)
async def compatible(
    product_id: Annotated[str, Path(max_length=64, description="The module's or inverter's product id.")],
    recommender: KitRecommenderDep,
    uf: Annotated[
        str | None, Query(min_length=2, max_length=2, description="State for the temperatures.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_COMPATIBLE, description="Products per group.")] = 10,
) -> Compatibility:
    return await asyncio.to_thread(compatible_products, recommender, product_id, uf, limit)
