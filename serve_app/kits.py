"""The kit recommender as the Serve app builds it, and KitComposer: its compositions for /recommend in
replicas of their own (`kit_composer.placement`), so concurrent ones run on other cores than the router's
and scale apart from it."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

import psycopg

from common.catalog_store import catalog_version
from common.offer_store import catalog_with_offers
from common.resources import Resources
from common.settings import Settings
from common.tariff_store import residential_tariffs_in_force
from kernel.schemas import Offer, Product
from serve_app.config import RouterOptions
from services.homologacao import ProductCatalog
from services.recommend import KitRecommender
from services.recommend_models import RecommendRequest, RecommendResponse
from solar import Atlas, ResidentialTariff


def load_catalog_from_postgres(resources: Resources, timeout_s: float) -> tuple[list[Product], list[Offer]]:
    """Products and in-stock offers for the kit recommender (runs in its refresh thread)."""
    with resources.connect(timeout_s=timeout_s) as conn:
        return catalog_with_offers(conn)


def read_catalog_version(resources: Resources, timeout_s: float) -> tuple[Any, ...]:
    with resources.connect(timeout_s=timeout_s) as conn:
        return catalog_version(conn)


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


def build_kit_recommender(
    resources: Resources, options: RouterOptions, product_catalog: ProductCatalog | None = None
) -> KitRecommender:
    """A recommender over the catalog in Postgres, kept fresh from the offers change feed. The first load
    runs here (start_refreshing), so a healthy replica recommends at once; Postgres down leaves it
    answering 503 until a background reload succeeds. `product_catalog` remembers each load for the
    homologação checks, which keep the specs the recommender drops."""
    load = partial(load_catalog_from_postgres, resources, options.recommend_db_timeout_s)
    recommender = KitRecommender(
        load_catalog=product_catalog.remembering(load) if product_catalog is not None else load,
        load_tariffs=partial(load_tariffs_from_postgres, resources, options.recommend_db_timeout_s),
        atlas=load_atlas(resources),
        atlas_source=f"{resources.settings.irradiance_uri} (Atlas Brasileiro format)",
        max_options=options.recommend_max_options,
    )
    recommender.start_refreshing(
        options.recommend_refresh_s,
        version=partial(read_catalog_version, resources, options.recommend_db_timeout_s),
    )
    return recommender


class KitComposer:
    """Plain class; the builder makes it a deployment when `kit_composer.placement` is `deployment`. Each
    replica holds its own recommender, refreshed as the router's is."""

    def __init__(self, options: RouterOptions, settings: Settings) -> None:
        resources = Resources(settings.with_secrets_from_environment())  # bound without them
        self.recommender = build_kit_recommender(resources, options)

    def recommend(self, request: RecommendRequest) -> RecommendResponse:
        # Serve runs a sync method in the replica's thread pool, off its event loop. The composition is
        # pure Python, so those in one replica take turns on its GIL: a small max_ongoing_requests keeps
        # the rest at the router's handle, which spreads them over the replicas.
        return self.recommender.recommend(request)
