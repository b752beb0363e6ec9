"""ERP tests: a fresh migrated database with a tiny catalog, and the ERP simulator over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

from common import catalog_store, erp_store, postgres
from common.schemas import Offer, Product
from common.settings import Settings
from tests.conftest import ERP_TOKEN, new_database

if TYPE_CHECKING:
    from tests.erp_simulator import ErpSimulator

TOKEN = ERP_TOKEN
# The catalog the ERP's SKUs match: two offers of one module at one distributor, one at another.
OFFERS = (("Solar Sul", "SS-1"), ("Solar Sul", "SS-2"), ("Luz Norte", "LN-1"))


def seed_catalog(conn: psycopg.Connection[Any]) -> None:
    product = Product(id=str(uuid.uuid4()), category="module", brand="Acme", model="M550", title="Acme M550")
    offers = [
        (Offer(product_id=product.id, distributor=d, sku=s, price_brl=100.0, stock=1, lead_time_days=3),
         "feed.csv", f"hash-{s}")
        for d, s in OFFERS
    ]  # fmt: skip
    catalog_store.apply_catalog_changes(conn, products=[(product, "p")], offers=offers, removed_offers=[])


def erp_database(settings: Settings) -> Settings:
    """Settings pointing at a new database with the ERP schema and the tiny catalog."""
    fresh = settings.model_copy(update={"database_url": new_database(settings)})
    with postgres.connect(fresh.database_url or "") as conn:
        postgres.migrate(conn, erp_store.SCHEMA)
        seed_catalog(conn)
    return fresh


@pytest.fixture
def erp_settings(settings: Settings) -> Settings:
    return erp_database(settings)


@pytest.fixture
def conn(erp_settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    with postgres.connect(erp_settings.database_url or "") as connection:
        yield connection


@pytest.fixture
def erp(simulator_server: tuple[str, ErpSimulator]) -> ErpSimulator:
    """The simulator, emptied and without faults for each test."""
    _, simulator = simulator_server
    simulator.reset()
    return simulator


@pytest.fixture
def erp_url(simulator_server: tuple[str, ErpSimulator], erp: ErpSimulator) -> str:
    return simulator_server[0]
