"""The HTTP API of the Hélio catalog search: thin routes over `CatalogSearch` and the health checks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from catalog.query import MAX_LIMIT, MAX_QUERY_CHARS, SearchParams
from catalog.ranking import SearchResult
from kernel.errors import DependencyUnavailable
from kernel.schemas import Category
from rag.assistant import HelioAssistant
from serve_app.admin import AdminService
from serve_app.admin import routes as admin_routes
from serve_app.errors import ErrorBody, install_error_handlers
from serve_app.homologacao import routes as homologacao_routes
from serve_app.limits import LimitsOptions, RequestLimits
from serve_app.observability import install_observability
from services.ask import answer_question, ask_events
from services.ask_models import AskRequest, AskResponse
from services.health import HealthCheck, HealthReport
from services.homologacao import HomologacaoService
from services.quote import MAX_COMPATIBLE, QuoteRequest, QuoteResponse, compatible_products, quote_cart
from services.recommend import KitRecommender
from services.recommend_models import RecommendRequest, RecommendResponse
from services.search import CatalogSearch
from solar.compatibility import Compatibility

API_DESCRIPTION = """\
Search the solar-equipment catalog (modules, inverters, batteries, kits, structures, cables …) in
free Portuguese text. Power, brand, category and stock mentioned in the text narrow the search
("inversor growatt 5 kW", "painel 550W em estoque"); explicit parameters win over the text.

`POST /store/helio/recommend` sizes a grid-tied system for a consumption and a place and proposes kits
composed from the catalog in stock, with their checks, the tariff used and the finance.
`POST /store/helio/quote` checks a cart as a system, suggests what is missing and prices it;
`GET /store/helio/products/{id}/compatible` lists what goes with a module or an inverter.
`POST /store/helio/ask` answers questions from the knowledge bases, with citations.
`POST /store/helio/homologacao/check` checks a grid-connection package (the case as JSON and its PDF or
text documents) against the utility's rules and says what to fix.
`/admin/*` (bearer token): the scheduler's run history and manual job runs.

Every error answers JSON `{"detail": "<message>"}`: 422 for a bad request, 404 for an unknown product in
the path, 401 without the admin token, 413 for a body too large, 429 past the per-client rate, 503 when
the vector index, the query embedder or (for the solar endpoints) the catalog database is down.
"""


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

    def to_params(self) -> SearchParams:
        return SearchParams(**self.model_dump())


class SearchResponse(BaseModel):
    query: str = Field(description="The query as received.")
    results: list[SearchResult] = Field(
        description=(
            "Best first. `id` is the product id; `price_brl` is the lowest in-stock offer (null when no "
            "distributor has it in stock); `distributors` lists who sells it; `score` is the ranking score."
        )
    )
    took_ms: float = Field(description="Time spent in the search service, in milliseconds.")


# async, so FastAPI calls them on the event loop instead of a thread-pool hop per request.
async def _catalog_search(request: Request) -> CatalogSearch:
    search: CatalogSearch = request.app.state.catalog_search
    return search


async def _health_check(request: Request) -> HealthCheck:
    check: HealthCheck = request.app.state.health_check
    return check


async def _assistant(request: Request) -> HelioAssistant:
    assistant: HelioAssistant | None = request.app.state.assistant
    if assistant is None:
        raise DependencyUnavailable("assistant", "not configured")
    return assistant


async def _kit_recommender(request: Request) -> KitRecommender:
    recommender: KitRecommender | None = request.app.state.kit_recommender
    if recommender is None:
        raise DependencyUnavailable("kit recommender", "not configured")
    return recommender


CatalogSearchDep = Annotated[CatalogSearch, Depends(_catalog_search)]
HealthCheckDep = Annotated[HealthCheck, Depends(_health_check)]
SearchQueryDep = Annotated[SearchQuery, Query()]
KitRecommenderDep = Annotated[KitRecommender, Depends(_kit_recommender)]
AssistantDep = Annotated[HelioAssistant, Depends(_assistant)]

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
    results = await catalog_search.search(query.to_params())
    return SearchResponse(
        query=query.q, results=results, took_ms=round((time.perf_counter() - started) * 1000, 2)
    )


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
async def recommend_kits(request: RecommendRequest, recommender: KitRecommenderDep) -> RecommendResponse:
    # CPU-bound (the bounded kit search): off the event loop, so searches are not held up behind it.
    return await asyncio.to_thread(recommender.recommend, request)


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


@routes.post(
    "/store/helio/ask",
    response_model=AskResponse,
    summary="Ask Hélio",
    description=(
        "Routes the question to the knowledge bases it concerns (catalog, prices, regulation, technical, "
        "sales) and retrieves with hybrid search (dense + Portuguese BM25). When the evidence cannot answer, "
        "Hélio says it does not know. A consumption and a place (in the question or the context) are "
        "answered from the recommend engine's figures, the one asked for first; otherwise the answer opens "
        "with the sentence that answers, each sentence cited. A generation replaces it only when configured, "
        "citing its passages and stating no number they do not hold. "
        'With `"stream": true`: Server-Sent Events, an `answer` event at once, a `replace` event if '
        "a checked generation improves on it, then one `done` event with this body."
    ),
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when `stream` is true."},
        422: {"model": ErrorBody, "description": "Empty or too long question, bad history or context"},
        503: {"model": ErrorBody, "description": "The vector index or the query embedder is down"},
    },
    tags=["ask"],
)
async def ask(request: AskRequest, assistant: AssistantDep) -> Response:
    if request.stream:
        events = await ask_events(assistant, request)
        return StreamingResponse(
            events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )
    return JSONResponse((await answer_question(assistant, request)).model_dump())


@routes.get(
    "/health",
    response_model=HealthReport,
    summary="Status of the service and each dependency",
    responses={503: {"model": HealthReport, "description": "A dependency is down"}},
    tags=["operations"],
)
async def health(health_check: HealthCheckDep) -> JSONResponse:
    report = await health_check.run()
    return JSONResponse(report.model_dump(), status_code=200 if report.status == "ok" else 503)


def create_search_api(
    catalog_search: CatalogSearch,
    health_check: HealthCheck,
    *,
    kit_recommender: KitRecommender | None = None,
    assistant: HelioAssistant | None = None,
    limits: LimitsOptions | None = None,
    api_keys: Mapping[str, str] | None = None,
    admin: AdminService | None = None,
    homologacao: HomologacaoService | None = None,
) -> FastAPI:
    app = FastAPI(title="Hélio catalog search", description=API_DESCRIPTION, version="1.0.0")
    app.state.catalog_search = catalog_search
    app.state.health_check = health_check
    app.state.kit_recommender = kit_recommender
    app.state.assistant = assistant
    app.state.admin = admin
    app.state.homologacao = homologacao
    install_error_handlers(app)
    app.add_middleware(RequestLimits, options=limits or LimitsOptions(), api_keys=api_keys)
    install_observability(app)  # outermost: rejected requests are measured too
    app.include_router(routes)
    app.include_router(admin_routes)
    app.include_router(homologacao_routes)
    return app
