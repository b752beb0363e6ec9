"""HelioRouter: the Serve ingress. Query understanding and ranking run here; the embedding comes from
the batched QueryEmbedder (its own deployment, one hop, or held by this replica) and the hits from the
vector-index actor, one hop."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from functools import partial
from typing import Any

import psycopg
from fastapi import FastAPI

from common.catalog_store import catalog_version, offer_change_backlog
from common.offer_store import catalog_with_offers
from common.resources import Resources
from common.settings import Settings
from common.tariff_store import residential_tariffs_in_force
from kernel.errors import DependencyUnavailable
from kernel.schemas import CATALOG_COLLECTION, PRICING_COLLECTION, Offer, Product
from serve_app.api import create_search_api
from serve_app.config import SearchAppConfig
from serve_app.embedder import QueryEmbedder, load_query_embedder
from serve_app.llm import build_router_chain
from serve_app.routes.admin import AdminService, trigger_through_scheduler
from services.ask import build_assistant
from services.health import Freshness, HealthCheck
from services.homologacao import HomologacaoService, ProductCatalog
from services.query_vectors import QueryVectorCache
from services.recommend import KitRecommender
from services.search import CatalogSearch
from solar import Atlas, ResidentialTariff

log = logging.getLogger(__name__)

QUERY_EMBEDDER = "query embedder"
FRESHNESS_BOUND_S = 60.0  # a price or stock change reaches search within this (the alert's bound too)


def load_catalog_from_postgres(resources: Resources, timeout_s: float) -> tuple[list[Product], list[Offer]]:
    """Products and in-stock offers for the kit recommender (runs in its refresh thread)."""
    with resources.connect(timeout_s=timeout_s) as conn:
        return catalog_with_offers(conn)


def read_catalog_version(resources: Resources, timeout_s: float) -> tuple[Any, ...]:
    with resources.connect(timeout_s=timeout_s) as conn:
        return catalog_version(conn)


async def read_freshness(resources: Resources, timeout_s: float) -> dict[str, Freshness]:
    """How far the collections that follow the offers change feed trail it (ray_jobs.index_sync)."""

    def read() -> tuple[int, float]:
        with resources.connect(timeout_s=timeout_s) as conn:
            return offer_change_backlog(conn)

    pending, lag = await asyncio.to_thread(read)
    status = Freshness(lag_s=round(lag, 1), pending=pending, within_bound=lag <= FRESHNESS_BOUND_S)
    return dict.fromkeys((CATALOG_COLLECTION, PRICING_COLLECTION), status)


def load_tariffs_from_postgres(
    resources: Resources, timeout_s: float, on: date
) -> dict[str, ResidentialTariff]:
    """The residential tariffs in force; none until the tariffs job has run (its tables may not exist)."""
    with resources.connect(timeout_s=timeout_s) as conn:
        try:
            return residential_tariffs_in_force(conn, on=on)
        except psycopg.errors.UndefinedTable:
            return {}


def load_atlas(resources: Resources) -> Atlas:
    """The irradiance atlas of `IRRADIANCE_URI` (a path or s3:// URI), read once per replica."""
    return Atlas.from_csv(resources.read_object(resources.settings.irradiance_uri))


class HelioRouter:
    """Plain class; the builder wraps it with `serve.ingress()`, which calls `__serve_build_asgi_app__`
    once this constructor has run, so the FastAPI app is built around this replica's services."""

    def __init__(
        self, embedder: Any | None, chat_model: Any | None, config: SearchAppConfig, settings: Settings
    ) -> None:
        public = settings
        settings = settings.with_secrets_from_environment()  # bound without them (serve_app.app)
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
        # The first load runs here (start_refreshing), so a healthy replica recommends at once; Postgres
        # down leaves the endpoint answering 503 (search keeps working) until a background reload succeeds.
        # The homologação checks read the same catalog load, keeping the specs the recommender drops.
        product_catalog = ProductCatalog()
        self.kit_recommender = KitRecommender(
            load_catalog=product_catalog.remembering(
                partial(load_catalog_from_postgres, resources, options.recommend_db_timeout_s)
            ),
            load_tariffs=partial(load_tariffs_from_postgres, resources, options.recommend_db_timeout_s),
            atlas=load_atlas(resources),
            atlas_source=f"{settings.irradiance_uri} (Atlas Brasileiro format)",
            max_options=options.recommend_max_options,
        )
        self.kit_recommender.start_refreshing(
            options.recommend_refresh_s,
            version=partial(read_catalog_version, resources, options.recommend_db_timeout_s),
        )
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
        try:
            return await asyncio.wait_for(
                getattr(self._embedder, method).remote(*args), self._embed_timeout_s
            )
        except TimeoutError:
            raise DependencyUnavailable(
                QUERY_EMBEDDER, f"no answer within {self._embed_timeout_s:g} s"
            ) from None
        except Exception as error:  # Serve wraps replica deaths, back-pressure and model errors alike
            log.warning("query embedder %s failed: %s", method, error)
            raise DependencyUnavailable(QUERY_EMBEDDER, f"{method} failed ({type(error).__name__})") from None

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
            assistant=self.assistant,
            limits=self._limits,
            api_keys=self._api_keys,
            admin=self.admin,
            homologacao=self.homologacao,
        )
