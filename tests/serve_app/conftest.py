"""What the solar endpoints' tests share besides the session's catalog fixtures (tests/conftest.py)."""

from __future__ import annotations

from catalog.merge import MergedCatalog, offer_hash, product_hash
from common import postgres
from tests.conftest import store_catalog


def load_into_postgres(dsn: str, sample: MergedCatalog) -> None:
    """The sample's products and offers in a migrated catalog, as the ETL writes them."""
    with postgres.connect(dsn) as conn:
        postgres.migrate(conn)
        store_catalog(
            conn,
            products=[(p, product_hash(p)) for p in sample.products.values()],
            offers=[
                (o, sample.offer_files[key], offer_hash(o, sample.offer_files[key]))
                for key, o in sample.offers.items()
            ],
        )
