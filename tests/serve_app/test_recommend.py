"""Kit recommendations: the orchestration on a small generated catalog, and once through Serve over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import psycopg
import pytest
from pydantic import ValidationError
from ray import serve

from catalog.merge import MergedCatalog
from common import postgres
from common.offer_store import catalog_with_offers
from common.settings import Settings
from kernel.errors import DependencyUnavailable, InvalidRequest
from kernel.schemas import Offer, Product
from serve_app.app import build_search_app
from serve_app.config import SearchAppConfig
from services.recommend import KitRecommender
from services.recommend_models import RecommendRequest
from services.tariff_book import TariffBook
from tests.conftest import TODAY, free_port, new_database
from tests.serve_app.conftest import load_into_postgres

RECOMMEND_APP = "helio-recommend-test"
VALID = {"consumption_kwh_month": 800, "city": "São Paulo", "uf": "SP", "connection": "bi"}


def recommend(recommender: KitRecommender, **fields: Any) -> Any:
    return recommender.recommend(RecommendRequest.model_validate(VALID | fields))


def test_options_are_real_in_stock_products_and_pass_every_check(
    recommender: KitRecommender, catalog: tuple[list[Product], list[Offer]]
) -> None:
    products, offers = catalog
    titles = {product.id: product.title for product in products}
    in_stock = {
        (o.product_id, o.distributor, o.sku): o for o in offers if o.stock > 0 and o.price_brl is not None
    }
    response = recommend(recommender)
    assert response.reason is None
    assert 1 <= len(response.options) <= 5
    assert response.sizing.kwp > 0
    assert response.sizing.generation_kwh_month == pytest.approx(
        response.sizing.kwp * response.sizing.hsp * 30 * response.sizing.pr, rel=0.01
    )
    for option in response.options:
        assert option.checks and all(check.ok for check in option.checks)
        assert option.total_brl == pytest.approx(sum(b.qty * b.unit_price_brl for b in option.bom), abs=0.05)
        for line in option.bom:
            offer = in_stock[(line.product_id, line.distributor, line.sku)]
            assert line.title == titles[line.product_id]
            assert line.unit_price_brl == offer.price_brl
            assert line.qty >= 1
    prices = [option.price_per_wp for option in response.options]
    assert prices == sorted(prices)
    assert response.finance is not None
    finance = response.finance
    assert finance.equipment_brl == response.options[0].total_brl
    assert finance.installation_brl == pytest.approx(
        max(2500, 0.8 * response.options[0].dc_power_w), abs=0.01
    )
    assert finance.investment_brl == pytest.approx(finance.equipment_brl + finance.installation_brl, abs=0.01)
    assert response.finance.first_year_savings_brl > 0
    assert response.finance.financing


def test_tariff_says_which_and_from_where(recommender: KitRecommender) -> None:
    tariff = recommend(recommender).tariff
    assert tariff.utility == "ELETROPAULO"
    assert "default utility of SP" in tariff.source
    assert (
        tariff.with_taxes_brl_kwh
        > tariff.tariff_brl_kwh
        == pytest.approx(tariff.tusd_brl_kwh + tariff.te_brl_kwh)
    )
    asked = recommend(recommender, utility="cemig-d").tariff
    assert (asked.utility, asked.cnpj) == ("CEMIG-D", "06981180000116")
    assert recommend(recommender, utility="06.981.180/0001-16").tariff.utility == "CEMIG-D"
    # No default utility for Amazonas in the sample: the average, said so.
    manaus = recommend(recommender, city="Manaus", uf="AM").tariff
    assert manaus.cnpj is None and "average" in manaus.source


def test_twelve_months_and_a_point(recommender: KitRecommender) -> None:
    monthly = [700.0, 750, 800, 820, 780, 760, 800, 840, 860, 820, 820, 830]
    response = recommend(
        recommender, consumption_kwh_month=None, monthly_kwh=monthly, city=None, uf=None, lat=-23.5, lon=-46.6
    )
    assert response.site.name == "São Paulo" and response.site.distance_km is not None
    assert response.sizing.consumption_kwh_month == pytest.approx(sum(monthly) / 12, abs=0.1)
    assert response.options and response.finance is not None


def test_an_aged_tariff_sample_still_answers() -> None:
    tariff, source = TariffBook.from_sample(date(2035, 1, 1)).tariff_for("MG", None)
    assert tariff.agent == "CEMIG-D"
    assert "each utility's last tariff" in source


@pytest.mark.parametrize(
    "fields",
    [
        {"consumption_kwh_month": 0},
        {"consumption_kwh_month": -5},
        {"consumption_kwh_month": 1_000_001},
        {"connection": "quadri"},
        {"consumption_kwh_month": None},
        {"monthly_kwh": [100.0] * 11, "consumption_kwh_month": None},
        {"monthly_kwh": [0.0] * 12, "consumption_kwh_month": None},
        {"monthly_kwh": [100.0] * 12},
        {"city": None},
    ],
)
def test_bad_requests_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RecommendRequest.model_validate(VALID | fields)


def test_unknown_city_suggests_the_closest(recommender: KitRecommender) -> None:
    with pytest.raises(InvalidRequest, match="Sao Paolo/SP") as error:
        recommend(recommender, city="Sao Paolo")
    assert "São Paulo/SP" in str(error.value)


def test_unknown_utility_is_refused(recommender: KitRecommender) -> None:
    with pytest.raises(InvalidRequest, match=r"unknown utility 'LUZ DO NADA'.*CEMIG-D"):
        recommend(recommender, utility="LUZ DO NADA")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"consumption_kwh_month": 1_000_000}, "no kit of"),
        ({"budget_brl": 100}, "no option within the budget"),
        ({"consumption_kwh_month": 40}, "minimum bill"),
    ],
)
def test_no_feasible_kit_says_why(recommender: KitRecommender, fields: dict[str, Any], reason: str) -> None:
    response = recommend(recommender, **fields)
    assert response.options == [] and response.finance is None
    assert response.reason is not None and reason in response.reason


def test_catalog_down_is_503_and_a_later_refresh_recovers(
    catalog: tuple[list[Product], list[Offer]],
) -> None:
    calls = 0

    def flaky() -> tuple[list[Product], list[Offer]]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise psycopg.OperationalError("connection refused")
        return catalog

    recommender = KitRecommender(load_catalog=flaky, max_options=3, today=lambda: TODAY)
    assert not recommender.refresh()
    with pytest.raises(DependencyUnavailable, match="catalog database unavailable: OperationalError"):
        recommend(recommender)
    assert recommender.refresh()
    assert 1 <= len(recommend(recommender).options) <= 3


# ---------------------------------------------------------------- end to end through Serve


@pytest.fixture(scope="module")
def recommend_api(ray_session: None, settings: Settings, sample: MergedCatalog) -> Iterator[httpx.Client]:
    """The small catalog in a database of its own, the search app (with /recommend) on a free port; kits
    composed in a KitComposer replica, so every answer and error crosses that hop (in the router's threads,
    `tests/serve_app/local_app.py` covers them)."""
    dsn = new_database(settings)
    load_into_postgres(dsn, sample)
    app_settings = settings.model_copy(update={"database_url": dsn})
    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    config = SearchAppConfig.model_validate(
        {
            "router": {"num_replicas": 1, "ray_actor_options": {"num_cpus": 0.25}},
            "query_embedder": {"num_replicas": 1, "ray_actor_options": {"num_cpus": 0.5}},
            "kit_composer": {"placement": "deployment", "ray_actor_options": {"num_cpus": 0.25}},
            "chat": {"engines": []},  # these tests do not ask Hélio anything
        }
    )
    serve.run(build_search_app(config, app_settings), name=RECOMMEND_APP, route_prefix="/")
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        yield client
    serve.shutdown()


@pytest.mark.slow
def test_store_reads_what_the_etl_wrote(settings: Settings, sample: MergedCatalog) -> None:
    dsn = new_database(settings)
    load_into_postgres(dsn, sample)
    with postgres.connect(dsn) as conn:
        products, offers = catalog_with_offers(conn)
    assert len(products) == len(sample.products)
    expected = {k for k, o in sample.offers.items() if o.stock > 0 and o.price_brl is not None}
    assert {(o.distributor, o.sku) for o in offers} == expected


@pytest.mark.slow
def test_recommend_over_http(recommend_api: httpx.Client) -> None:
    response = recommend_api.post("/store/helio/recommend", json=VALID)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"site", "sizing", "tariff", "options", "finance", "reason", "notes"}
    assert set(body["sizing"]) >= {"kwp", "hsp", "pr", "generation_kwh_month"}
    assert body["options"]
    line = body["options"][0]["bom"][0]
    assert set(line) >= {"product_id", "sku", "title", "qty", "unit_price_brl", "distributor"}

    bad = recommend_api.post("/store/helio/recommend", json=VALID | {"consumption_kwh_month": 0})
    assert bad.status_code == 422 and "consumption_kwh_month" in bad.json()["detail"]
    city = recommend_api.post("/store/helio/recommend", json=VALID | {"city": "Sao Paolo"})
    assert city.status_code == 422 and "São Paulo/SP" in city.json()["detail"]
    utility = recommend_api.post("/store/helio/recommend", json=VALID | {"utility": "nada"})
    assert utility.status_code == 422 and "unknown utility" in utility.json()["detail"]
    deployments = serve.status().applications[RECOMMEND_APP].deployments
    assert deployments["KitComposer"].status == "HEALTHY"


@pytest.mark.slow
def test_quote_and_compatible_over_http(recommend_api: httpx.Client) -> None:
    option = recommend_api.post("/store/helio/recommend", json=VALID).json()["options"][0]
    cart = [{"product_id": line["product_id"], "qty": line["qty"]} for line in option["bom"]]
    quoted = recommend_api.post("/store/helio/quote", json={"items": cart, **VALID})
    assert quoted.status_code == 200, quoted.text
    body = quoted.json()
    assert body["ok"] and body["finance"] is not None
    assert body["total_brl"] == pytest.approx(option["total_brl"], abs=0.05)

    unknown = recommend_api.post("/store/helio/quote", json={"items": [{"product_id": "nope", "qty": 1}]})
    assert unknown.status_code == 422 and "nope" in unknown.json()["detail"]
    empty = recommend_api.post("/store/helio/quote", json={"items": []})
    assert empty.status_code == 422 and "items" in empty.json()["detail"]

    module = next(line for line in option["bom"] if line["category"] == "module")["product_id"]
    compatible = recommend_api.get(f"/store/helio/products/{module}/compatible", params={"uf": "SP"})
    assert compatible.status_code == 200, compatible.text
    assert compatible.json()["inverters"] or compatible.json()["microinverters"]
    missing = recommend_api.get("/store/helio/products/nope/compatible")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    limit = recommend_api.get(f"/store/helio/products/{module}/compatible", params={"limit": 0})
    assert limit.status_code == 422 and "limit" in limit.json()["detail"]
