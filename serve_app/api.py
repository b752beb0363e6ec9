"""The HTTP API of Hélio: the app factory. It puts the services on `app.state`, installs the error shape,
the limits and the observability, and includes each feature's routes (`serve_app.routes`)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from fastapi import FastAPI

from rag.assistant import HelioAssistant
from serve_app.errors import install_error_handlers
from serve_app.limits import LimitsOptions, RequestLimits
from serve_app.observability import install_observability
from serve_app.routes import admin as admin_routes
from serve_app.routes import ask, health, recommend, search
from serve_app.routes import homologacao as homologacao_routes
from serve_app.routes.admin import AdminService
from serve_app.routes.recommend import RecommendKits
from services.health import HealthCheck
from services.homologacao import HomologacaoService
from services.recommend import KitRecommender
from services.recommend_models import RecommendRequest, RecommendResponse
from services.search import CatalogSearch

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


def _in_worker_thread(recommender: KitRecommender) -> RecommendKits:
    """Recommendations composed in this process (`kit_composer.placement: router`)."""

    async def recommend_kits(request: RecommendRequest) -> RecommendResponse:
        # CPU-bound (the bounded kit search): off the event loop, so searches are not held up behind it.
        return await asyncio.to_thread(recommender.recommend, request)

    return recommend_kits


# Modules, not the services of the same names that create_search_api takes.
FEATURES = (search, recommend, ask, health, admin_routes, homologacao_routes)


def create_search_api(
    catalog_search: CatalogSearch,
    health_check: HealthCheck,
    *,
    kit_recommender: KitRecommender | None = None,
    recommend_kits: RecommendKits | None = None,
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
    app.state.recommend_kits = recommend_kits or (kit_recommender and _in_worker_thread(kit_recommender))
    app.state.assistant = assistant
    app.state.admin = admin
    app.state.homologacao = homologacao
    install_error_handlers(app)
    app.add_middleware(RequestLimits, options=limits or LimitsOptions(), api_keys=api_keys)
    install_observability(app)  # outermost: rejected requests are measured too
    for feature in FEATURES:
        app.include_router(feature.routes)
    return app
