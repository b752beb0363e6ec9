"""The router's FastAPI app built in-process, without Ray: the same `create_search_api` with the real
search, recommender and assistant, over the packaged MiniLM and a Qdrant Edge shard holding
`catalog.csv`. The assistant has no chat engine unless given a chain (its answers are extractive)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from common.vectors.client import DirectVectorIndex
from common.vectors.edge import EdgeVectorStore
from kernel.schemas import CATALOG_COLLECTION
from models.embedders import Embedder
from models.fallback import FallbackChain
from serve_app.api import create_search_api
from serve_app.config import RouterOptions
from serve_app.limits import LimitsOptions
from serve_app.routes.admin import AdminService
from services.ask import AskOptions, build_assistant
from services.health import HealthCheck
from services.homologacao import HomologacaoService
from services.recommend import KitRecommender
from services.search import CatalogSearch
from tests.serve_app.catalog_data import catalog_rows, index_catalog


def indexed_store(folder: Path, embedder: Embedder) -> EdgeVectorStore:
    """A Qdrant Edge shard in `folder` with the tiny catalog; the caller closes it."""
    store = EdgeVectorStore(folder)
    index_catalog(store, embedder, catalog_rows())
    return store


def local_api(
    store: EdgeVectorStore,
    embedder: Embedder,
    recommender: KitRecommender,
    limits: LimitsOptions | None = None,
    admin: AdminService | None = None,
    homologacao: HomologacaoService | None = None,
    chain: FallbackChain | None = None,
) -> FastAPI:
    async def embed(text: str) -> list[float]:
        return [float(x) for x in embedder.embed([text])[0]]

    async def index_status() -> str:
        return f"{store.count(CATALOG_COLLECTION)} products in {CATALOG_COLLECTION}"

    async def embedder_status() -> str:
        return f"{embedder.name} ({embedder.dim}-d)"

    options = RouterOptions()
    index = DirectVectorIndex(store)
    search = CatalogSearch(
        embed=embed,
        index=index,
        vector_name=embedder.name,
        brands_refresh_s=options.brands_refresh_s,
        candidates=options.candidates,
        rank_pool=options.rank_pool,
    )
    assistant = build_assistant(
        embed=embed,
        index=index,
        chain=chain or FallbackChain([], timeout_s=10),
        options=AskOptions(generate="always" if chain else "off"),
        vector_name=embedder.name,
        recommender=recommender,
        catalog_search=search,
    )
    health = HealthCheck({"vector_index": index_status, "embedder": embedder_status}, timeout_s=2)
    return create_search_api(
        search,
        health,
        kit_recommender=recommender,
        assistant=assistant,
        limits=limits or options.limits,
        admin=admin,
        homologacao=homologacao,
    )
