"""HelioRouter: the Serve ingress. Query understanding and ranking run here; the embedding comes from
the batched QueryEmbedder (its own deployment, one hop, or held by this replica) and the hits from the
vector-index actor, one hop. Kits for /recommend are composed here or in KitComposer replicas."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from fastapi import FastAPI

from common.catalog_store import offer_change_backlog
from common.embedded import refuse_embedded_on_cluster
from common.resources import Resources
from common.settings import Settings
from kernel.schemas import CATALOG_COLLECTION, PRICING_COLLECTION
from serve_app.api import create_search_api
from serve_app.config import SearchAppConfig
from serve_app.embedder import QueryEmbedder, load_query_embedder
from serve_app.handles import call_deployment
from serve_app.kits import build_kit_recommender
from serve_app.llm import build_router_chain
from serve_app.routes.admin import AdminService, trigger_through_scheduler
from services.ask import build_assistant
from services.health import Freshness, HealthCheck
from services.homologacao import HomologacaoService, ProductCatalog
from services.query_vectors import QueryVectorCache
from services.recommend_models import RecommendRequest, RecommendResponse
from services.search import CatalogSearch

QUERY_EMBEDDER = "query embedder"
KIT_COMPOSER = "kit composer"
FRESHNESS_BOUND_S = 60.0  # a price or stock change reaches search within this (the alert's bound too)


async def read_freshness(resources: Resources, timeout_s: float) -> dict[str, Freshness]:
    """How far the collections that follow the offers change feed trail it (ray_jobs.index_sync)."""

    def read() -> tuple[int, float]:
        with resources.connect(timeout_s=timeout_s) as conn:
            return offer_change_backlog(conn)

    pending, lag = await asyncio.to_thread(read)
    status = Freshness(lag_s=round(lag, 1), pending=pending, within_bound=lag <= FRESHNESS_BOUND_S)
    return dict.fromkeys((CATALOG_COLLECTION, PRICING_COLLECTION), status)


class HelioRouter:
    """Plain class; the builder wraps it with `serve.ingress()`, which calls `__serve_build_asgi_app__`
    once this constructor has run, so the FastAPI app is built around this replica's services."""

    def __init__(
        self,
        embedder: Any | None,
        chat_model: Any | None,
        kit_composer: Any | None,
        config: SearchAppConfig,
        settings: Settings,
    ) -> None:
        public = settings
        settings = settings.with_secrets_from_environment()  # bound without them (serve_app.app)
        refuse_embedded_on_cluster(settings)  # `serve deploy` to a cluster starts no job to check it
        resources = Resources(settings)
        options = config.router
        self._embedder = embedder  # DeploymentHandle of QueryEmbedder; None: placement "router"
        self._local_embedder = (
            QueryEmbedder(
                config.embedder,
                config.query_embedder.max_batch_size,
                config.query_embedder.batch_wait_timeout_s,
                partial(load_query_embedder, settings=public),
                in_router=True,
            )
            if embedder is None
            else None
        )
        self._embed_timeout_s = options.embed_timeout_s
        self._kit_composer = kit_composer  # DeploymentHandle of KitComposer; None: placement "router"
        self._compose_timeout_s = config.kit_composer.timeout_s
        self._query_vectors = QueryVectorCache(options.query_cache_entries)
        self._limits = options.limits
        self._api_keys = settings.caller_keys()
        index = resources.index_client(options.index_timeout_s)
        self.catalog_search = CatalogSearch(
            embed=self.embed_query,
            index=index,
            vector_name=config.embedder.vector_name,
            brands_refresh_s=options.brands_refresh_s,
            candidates=options.candidates,
            rank_pool=options.rank_pool,
        )
        self.health_check = HealthCheck(
            {"vector_index": index.describe, "embedder": self.describe_embedder},
            timeout_s=max(options.index_timeout_s, options.embed_timeout_s),
            freshness=partial(read_freshness, resources, options.recommend_db_timeout_s),
        )
        # The homologação checks read the same catalog load, keeping the specs the recommender drops.
        product_catalog = ProductCatalog()
        self.kit_recommender = build_kit_recommender(resources, options, product_catalog)
        ask = config.ask
        chain = build_router_chain(config.chat, settings, chat_model)
        self.assistant = build_assistant(
            embed=self.embed_query,
            index=index,
            chain=chain,
            options=ask,
            vector_name=config.embedder.vector_name,
            recommender=self.kit_recommender,
            catalog_search=self.catalog_search,
        )
        self.homologacao = HomologacaoService(
            product_catalog, chain if chain.engines else None, config.homologacao
        )
        self.admin = AdminService(
            token=settings.admin_token,
            dsn=lambda: resources.dsn,
            trigger=trigger_through_scheduler,
            db_timeout_s=options.recommend_db_timeout_s,
        )

    async def _call_embedder(self, method: str, *args: Any) -> Any:
        return await call_deployment(
            self._embedder, method, *args, dependency=QUERY_EMBEDDER, timeout_s=self._embed_timeout_s
        )

    async def _compose_in_deployment(self, request: RecommendRequest) -> RecommendResponse:
        response: RecommendResponse = await call_deployment(
            self._kit_composer,
            "recommend",
            request,
            dependency=KIT_COMPOSER,
            timeout_s=self._compose_timeout_s,
        )
        return response

    async def embed_query(self, text: str) -> list[float]:
        """From the cache when this replica embedded the same text lately (so a repeated query still
        answers while the embedder is down), else from the QueryEmbedder."""
        vector = self._query_vectors.get(text)
        if vector is None:
            if self._local_embedder is not None:
                vector = await self._local_embedder.embed(text)
            else:
                vector = await self._call_embedder("embed", text)
            self._query_vectors.put(text, vector)
        return vector

    async def describe_embedder(self) -> str:
        if self._local_embedder is not None:
            described = self._local_embedder.describe()
            return f"{described['vector_name']} ({described['dim']}-d, in the router)"
        described = await self._call_embedder("describe")
        return f"{described['vector_name']} ({described['dim']}-d)"

    def __serve_build_asgi_app__(self) -> FastAPI:
        return create_search_api(
            self.catalog_search,
            self.health_check,
            kit_recommender=self.kit_recommender,
            # placement "router": create_search_api composes with kit_recommender in a worker thread
            recommend_kits=None if self._kit_composer is None else self._compose_in_deployment,
            assistant=self.assistant,
            limits=self._limits,
            api_keys=self._api_keys,
            admin=self.admin,
            homologacao=self.homologacao,
        )
