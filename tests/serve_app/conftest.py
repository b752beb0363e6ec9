"""Fixtures of the solar endpoints: a small generated catalog and a recommender over it, shared by modules."""

from __future__ import annotations

from datetime import date

import pytest

from catalog.merge import MergedCatalog, offer_hash, product_hash
from common import postgres
from common.catalog_store import apply_catalog_changes
from kernel.schemas import Offer, Product
from samples.feeds.merged import merged_sample
from services.recommend import KitRecommender

TODAY = date(2026, 11, 24)  # the sample tariffs in force on this day


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> MergedCatalog:
    return merged_sample(tmp_path_factory.mktemp("recommend_feeds"), seed=7, products=300)


@pytest.fixture(scope="session")
def catalog(sample: MergedCatalog) -> tuple[list[Product], list[Offer]]:
    return list(sample.products.values()), list(sample.offers.values())


@pytest.fixture(scope="session")
def recommender(catalog: tuple[list[Product], list[Offer]]) -> KitRecommender:
    recommender = KitRecommender(load_catalog=lambda: catalog, max_options=5, today=lambda: TODAY)
    assert recommender.refresh()
    return recommender


def load_into_postgres(dsn: str, sample: MergedCatalog) -> None:
    """The sample's products and offers in a migrated catalog, as the ETL writes them."""
    with postgres.connect(dsn) as conn:
        postgres.migrate(conn)
        apply_catalog_changes(
            conn,
            products=[(p, product_hash(p)) for p in sample.products.values()],
            offers=[
                (o, sample.offer_files[key], offer_hash(o, sample.offer_files[key]))
                for key, o in sample.offers.items()
            ],
            removed_offers=[],
        )
