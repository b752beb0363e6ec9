"""The catalog published to a real Medusa: every category, a second run that changes nothing and says so,
price, stock and distributor changes, products that leave, a product Medusa refuses (kept with its reason,
the run goes on), and Medusa down (a failed run, nothing recorded as sent)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from catalog.merge import MergedCatalog
from catalog.storefront import storefront_product
from common import postgres
from common.medusa_client import MedusaAdmin, MedusaUnavailable
from common.resources import Resources
from common.settings import Settings
from ray_jobs import storefront_publish
from tests.conftest import free_port, new_database
from tests.serve_app.conftest import load_into_postgres
from tests.storefront.medusa_server import MedusaServer


@pytest.fixture
def platform(settings: Settings, sample: MergedCatalog, medusa: MedusaServer) -> Settings:
    """A new platform database holding the sample catalog, pointed at this test's Medusa."""
    dsn = new_database(settings)
    load_into_postgres(dsn, sample)
    return medusa.settings(settings.model_copy(update={"database_url": dsn}))


def on_sale(sample: MergedCatalog) -> dict[str, Any]:
    offers: dict[str, list[Any]] = {}
    for offer in sample.offers.values():
        offers.setdefault(offer.product_id, []).append(offer)
    published = {p.id: storefront_product(p, offers.get(p.id, [])) for p in sample.products.values()}
    return {product_id: sp for product_id, sp in published.items() if sp is not None}


def admin(settings: Settings) -> MedusaAdmin:
    return MedusaAdmin.from_settings(settings)


def store_products(settings: Settings, key: str) -> list[dict[str, Any]]:
    """What a shopper's storefront lists through the Store API."""
    found: list[dict[str, Any]] = []
    while True:
        page = httpx.get(
            f"{settings.medusa_url}/store/products",
            params={"limit": 100, "offset": len(found), "fields": "id,handle,*categories,*variants"},
            headers={"x-publishable-api-key": key},
            timeout=30,
        ).json()
        found += page["products"]
        if len(found) >= page["count"]:
            return found


def test_the_catalog_is_published_and_a_second_run_changes_nothing(
    platform: Settings, sample: MergedCatalog
) -> None:
    expected = on_sale(sample)
    first = storefront_publish.run(Resources(platform))
    assert (first.created, first.updated, first.unpublished, first.rejected) == (len(expected), 0, 0, 0)
    assert first.store_api_key
    listed = store_products(platform, first.store_api_key)
    assert sorted(p["handle"] for p in listed) == sorted(sp.handle for sp in expected.values())
    categories = Counter(p["categories"][0]["handle"] for p in listed)
    assert categories == Counter(sp.category for sp in expected.values())
    assert len(categories) >= 8  # the sample's categories, every one with its products

    with admin(platform) as medusa:
        sp = max(expected.values(), key=lambda sp: len(sp.variants))
        [product] = medusa.request(
            "GET", "/admin/products", params={"handle": sp.handle, "fields": "*variants,*variants.prices"}
        )["products"]
        prices = {
            v["sku"]: [(p["amount"], p["currency_code"]) for p in v["prices"]] for v in product["variants"]
        }
        assert prices == {v.sku: [(v.price_brl, "brl")] for v in sp.variants}
        levels = medusa.request(
            "GET",
            "/admin/inventory-items",
            params={"sku": [v.sku for v in sp.variants], "fields": "sku,*location_levels"},
        )["inventory_items"]
        assert {i["sku"]: i["location_levels"][0]["stocked_quantity"] for i in levels} == {
            v.sku: v.stock for v in sp.variants
        }

    second = storefront_publish.run(Resources(platform))
    assert not second.changed and second.unchanged == len(expected) and second.rejected == 0
    with postgres.connect(platform.database_url or "") as conn:
        rows = conn.execute(
            "SELECT count(*) AS n, count(DISTINCT medusa_product_id) AS ids FROM storefront_products"
        ).fetchone()
        runs = conn.execute(
            "SELECT status, counts FROM job_runs WHERE job = 'storefront_publish' ORDER BY id"
        ).fetchall()
    assert rows == {"n": len(expected), "ids": len(expected)}
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"] and runs[1]["counts"]["created"] == 0


def test_price_stock_and_distributor_changes_reach_medusa_and_products_that_leave_are_unpublished(
    platform: Settings, sample: MergedCatalog
) -> None:
    expected = on_sale(sample)
    storefront_publish.run(Resources(platform))
    two = [sp for sp in expected.values() if len(sp.variants) >= 2]
    repriced, trimmed = two[0], two[1]
    leaving = next(
        sp for sp in expected.values() if sp.product_id not in {repriced.product_id, trimmed.product_id}
    )
    cheaper = repriced.variants[0]
    with postgres.connect(platform.database_url or "") as conn:
        conn.execute(
            "UPDATE offers SET price_brl = 123.45, stock = 7 WHERE product_id = %s AND distributor = %s",
            (repriced.product_id, cheaper.distributor),
        )
        conn.execute(
            "DELETE FROM offers WHERE product_id = %s AND distributor = %s",
            (trimmed.product_id, trimmed.variants[-1].distributor),
        )
        conn.execute("UPDATE offers SET price_brl = NULL WHERE product_id = %s", (leaving.product_id,))
        conn.commit()
    report = storefront_publish.run(Resources(platform))
    assert (report.created, report.updated, report.unpublished, report.rejected) == (0, 2, 1, 0)
    assert report.unchanged == len(expected) - 3

    with admin(platform) as medusa:
        products = {
            p["handle"]: p
            for p in medusa.request(
                "GET",
                "/admin/products",
                params={
                    "handle": [repriced.handle, trimmed.handle, leaving.handle],
                    "fields": "handle,status,*variants,*variants.prices",
                },
            )["products"]
        }
        variant = next(v for v in products[repriced.handle]["variants"] if v["sku"] == cheaper.sku)
        assert [p["amount"] for p in variant["prices"]] == [123.45]
        [item] = medusa.request(
            "GET", "/admin/inventory-items", params={"sku": cheaper.sku, "fields": "sku,*location_levels"}
        )["inventory_items"]
        assert item["location_levels"][0]["stocked_quantity"] == 7
        assert {v["sku"] for v in products[trimmed.handle]["variants"]} == {
            v.sku for v in trimmed.variants[:-1]
        }
        assert products[leaving.handle]["status"] == "draft"
    listed = {p["handle"] for p in store_products(platform, report.store_api_key or "")}
    assert leaving.handle not in listed and repriced.handle in listed

    assert not storefront_publish.run(Resources(platform)).changed  # and again, nothing left to send


def test_a_product_medusa_refuses_is_kept_with_its_reason_and_the_run_goes_on(
    platform: Settings, sample: MergedCatalog
) -> None:
    expected = on_sale(sample)
    victim = next(iter(expected.values()))
    with admin(platform) as medusa:
        # Someone created, by hand in Medusa, a product whose variant holds one of the catalog's SKUs.
        medusa.request(
            "POST",
            "/admin/products",
            json={
                "title": "Cadastro manual",
                "options": [{"title": "Padrão", "values": ["único"]}],
                "variants": [
                    {
                        "title": "único",
                        "sku": victim.variants[0].sku,
                        "options": {"Padrão": "único"},
                        "prices": [],
                    }
                ],
            },
        )
    report = storefront_publish.run(Resources(platform), batch_size=50)
    assert (report.created, report.rejected) == (len(expected) - 1, 1)
    with postgres.connect(platform.database_url or "") as conn:
        [reject] = conn.execute(
            "SELECT product_id::text AS product_id, reason FROM storefront_rejects"
        ).fetchall()
        published = conn.execute("SELECT count(*) AS n FROM storefront_products").fetchone()
    assert reject["product_id"] == victim.product_id and victim.variants[0].sku in reject["reason"]
    assert published == {"n": len(expected) - 1}


def test_medusa_down_is_a_failed_run_and_nothing_is_recorded_as_sent(
    settings: Settings, sample: MergedCatalog
) -> None:
    dsn = new_database(settings)
    load_into_postgres(dsn, sample)
    down = settings.model_copy(
        update={
            "database_url": dsn,
            "medusa_url": f"http://127.0.0.1:{free_port()}",
            "medusa_admin_email": "admin@ysh.test",
            "medusa_admin_password": SecretStr("whatever"),
        }
    )
    with pytest.raises(MedusaUnavailable, match="did not answer"):
        storefront_publish.run(Resources(down))
    with postgres.connect(dsn) as conn:
        [run] = conn.execute("SELECT status, error FROM job_runs WHERE job = 'storefront_publish'").fetchall()
        sent = conn.execute("SELECT count(*) AS n FROM storefront_products").fetchone()
    assert run["status"] == "failed" and "did not answer" in run["error"]
    assert sent == {"n": 0}


def test_without_medusa_url_the_job_is_idle(settings: Settings) -> None:
    idle = settings.model_copy(update={"database_url": new_database(settings), "medusa_url": None})
    report = storefront_publish.run(Resources(idle))
    assert report.status == "skipped" and not report.changed


def test_a_run_that_stopped_before_recording_creates_nothing_twice(
    platform: Settings, sample: MergedCatalog
) -> None:
    """Medusa took the products but the run stopped before Postgres recorded them (and before one's stock
    was set): the next run finds them by handle and adopts them instead of creating copies."""
    kept = sorted(on_sale(sample))[:20]  # adopting goes product by product: a few are enough
    expected = {product_id: sp for product_id, sp in on_sale(sample).items() if product_id in kept}
    with postgres.connect(platform.database_url or "") as conn:
        conn.execute("DELETE FROM offers WHERE product_id <> ALL(%s::uuid[])", (kept,))
        conn.commit()
    first = storefront_publish.run(Resources(platform))
    with postgres.connect(platform.database_url or "") as conn:
        [row] = conn.execute("SELECT variants FROM storefront_products LIMIT 1").fetchall()
        conn.execute("DELETE FROM storefront_products")
        conn.commit()
    stockless = next(iter(row["variants"].values()))["inventory_item_id"]
    with admin(platform) as medusa:  # it stopped before this product's stock was set, too
        [level] = medusa.request(
            "GET", f"/admin/inventory-items/{stockless}", params={"fields": "*location_levels"}
        )["inventory_item"]["location_levels"]
        medusa.request("DELETE", f"/admin/inventory-items/{stockless}/location-levels/{level['location_id']}")
    again = storefront_publish.run(Resources(platform))
    assert again.created == len(expected) and again.rejected == 0
    assert len(store_products(platform, first.store_api_key or "")) == len(expected)
    with admin(platform) as medusa:
        assert medusa.request("GET", "/admin/products", params={"limit": 1})["count"] == len(expected)
        assert (stockless, level["location_id"]) in medusa.stock_levels([stockless])
    assert not storefront_publish.run(Resources(platform)).changed
