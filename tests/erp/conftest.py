"""ERP tests: a fresh migrated database with a tiny catalog, and the ERP simulator over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

from common import erp_store, postgres
from common.settings import Settings
from kernel.schemas import Offer, Product
from tests.conftest import ERP_TOKEN, new_database, store_catalog

if TYPE_CHECKING:
    from tests.erp_simulator import ErpSimulator

TOKEN = ERP_TOKEN
# The catalog the ERP's SKUs match: two offers of one module at one distributor, one at another.
OFFERS = (("Solar Sul", "SS-1"), ("Solar Sul", "SS-2"), ("Luz Norte", "LN-1"))
# Order ids that would climb out of, or add a segment to, `<documents>/<order_id>/` or the ERP's
# `/orders/{order_id}/…`, or that only look like an id: every way in refuses them, with the reason.
BAD_IDS = {
    "parent-parent": "../..",
    "parent": "..",
    "dot": ".",
    "encoded-slash": "..%2f..",
    "encoded-dots": "%2e%2e",
    "absolute": "/etc/passwd",
    "slash": "a/b",
    "backslash": "a\\b",
    "empty": "",
    "overlong": "x" * 65,
    "leading-dot": ".hidden",
    "leading-dash": "-rf",
    "trailing-newline": "A-1\n",
    "space": "A 1",
    "nul": "A-1\x00",
    "unicode-hyphen": "PED\u20101",
    "fullwidth-letters": "\uff30\uff25\uff24-1",
    "cyrillic-er": "\u0420ED-1",
    "arabic-indic-digit": "PED-\u0661",
    "one-dot-leaders": "\u2024\u2024",
}


def id_refusal(order_id: str) -> str:
    """The reason a record with this order id is refused with (`erp.records.rejection_reason`)."""
    return (
        f"order_id: Value error, {order_id[:80]!r} is not an id: 1 to 64 ASCII letters, digits, '.', '_' or"
        " '-', starting with a letter or a digit"
    )


def seed_catalog(conn: psycopg.Connection[Any]) -> None:
    product = Product(id=str(uuid.uuid4()), category="module", brand="Acme", model="M550", title="Acme M550")
    offers = [
        (Offer(product_id=product.id, distributor=d, sku=s, price_brl=100.0, stock=1, lead_time_days=3),
         "feed.csv", f"hash-{s}")
        for d, s in OFFERS
    ]  # fmt: skip
    store_catalog(conn, products=[(product, "p")], offers=offers)


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
