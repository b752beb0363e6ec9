"""Quotes and compatible products on a small generated catalog; the tariffs read from the store."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from common.resources import Resources
from common.settings import Settings
from kernel.errors import InvalidRequest, NotFound
from kernel.schemas import Offer, Product
from serve_app.kits import load_atlas
from services.quote import QuoteRequest, QuoteResponse, compatible_products, quote_cart
from services.recommend import KitRecommender
from services.recommend_models import KitOptionView, RecommendRequest
from solar import ResidentialTariff
from solar.parameters import DATA_DIR
from tests.conftest import S3, TODAY

IRRADIANCE_SAMPLE = DATA_DIR / "irradiancia-capitais.csv"

PLACE = {"city": "São Paulo", "uf": "SP", "connection": "bi"}


@pytest.fixture(scope="module")
def kit(recommender: KitRecommender) -> KitOptionView:
    """The best composed (string-inverter) kit for 800 kWh/month in São Paulo."""
    response = recommender.recommend(RecommendRequest.model_validate({"consumption_kwh_month": 800, **PLACE}))
    return next(option for option in response.options if option.kind == "composed")


def quote(recommender: KitRecommender, items: list[tuple[str, int]], **fields: Any) -> QuoteResponse:
    body = {"items": [{"product_id": pid, "qty": qty} for pid, qty in items], **fields}
    return quote_cart(recommender, QuoteRequest.model_validate(body))


def test_a_recommended_kit_quoted_back_passes_and_costs_the_same(
    recommender: KitRecommender, kit: KitOptionView
) -> None:
    result = quote(
        recommender, [(line.product_id, line.qty) for line in kit.bom], consumption_kwh_month=800, **PLACE
    )
    assert result.ok, [c for c in result.checks if not c.ok]
    assert result.suggestions == []
    assert result.total_brl == pytest.approx(kit.total_brl, abs=0.05)
    assert result.dc_power_w == kit.dc_power_w
    assert result.sizing is not None and result.sizing.kwp > 0
    assert result.finance is not None and result.finance.equipment_brl == result.total_with_suggestions_brl
    assert result.tariff is not None and result.site is not None and result.site.uf == "SP"


def test_modules_and_inverter_alone_get_the_same_balance_of_system(
    recommender: KitRecommender, kit: KitOptionView
) -> None:
    core = [(line.product_id, line.qty) for line in kit.bom if line.category in ("module", "inverter")]
    result = quote(recommender, core, **PLACE)
    suggested = {s.line.category: s.line.product_id for s in result.suggestions}
    expected = {
        line.category: line.product_id for line in kit.bom if line.category not in ("module", "inverter")
    }
    assert suggested == expected
    assert result.total_with_suggestions_brl == pytest.approx(kit.total_brl, abs=0.05)
    assert result.finance is None  # no consumption given


def test_a_lone_module_gets_an_inverter_that_passes(recommender: KitRecommender, kit: KitOptionView) -> None:
    module = next(line for line in kit.bom if line.category == "module")
    result = quote(recommender, [(module.product_id, module.qty)], **PLACE)
    assert {s.line.category for s in result.suggestions} & {"inverter", "microinverter"}
    assert all(check.ok for check in result.checks), [c for c in result.checks if not c.ok]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"items": []}, "items"),
        ({"items": [{"product_id": "x", "qty": 0}]}, "qty"),
        ({"items": [{"product_id": "x", "qty": 1}], "consumption_kwh_month": 500}, "needs the place"),
        ({"items": [{"product_id": "x", "qty": 1}], "consumption_kwh_month": -1, **PLACE}, "consumption"),
        ({"items": [{"product_id": "x", "qty": 1}], "connection": "quad"}, "connection"),
        ({"items": [{"product_id": "x", "qty": 1}], "surprise": 1}, "surprise"),
    ],
)
def test_bad_quote_requests_are_refused(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        QuoteRequest.model_validate(body)


def test_unknown_products_are_a_422_naming_them(recommender: KitRecommender, kit: KitOptionView) -> None:
    with pytest.raises(InvalidRequest, match="not in the catalog: nope"):
        quote(recommender, [(kit.bom[0].product_id, 1), ("nope", 2)])


def test_compatible_inverters_of_the_kit_module_include_the_kit_inverter(
    recommender: KitRecommender, kit: KitOptionView
) -> None:
    module = next(line for line in kit.bom if line.category == "module")
    inverter = next(line for line in kit.bom if line.category == "inverter")
    result = compatible_products(recommender, module.product_id, "SP", limit=50)
    assert inverter.product_id in [p.product_id for p in result.inverters]
    prices = [p.price_brl for p in result.inverters]
    assert prices == sorted(prices)
    back = compatible_products(recommender, inverter.product_id, "SP", limit=50)
    assert module.product_id in [p.product_id for p in back.modules]
    assert all(p.category == "module" and p.stock > 0 for p in back.modules)


def test_compatible_errors(recommender: KitRecommender, catalog: tuple[list[Product], list[Offer]]) -> None:
    with pytest.raises(NotFound):
        compatible_products(recommender, "no-such-product", None, limit=5)
    cable = next(p for p in catalog[0] if p.category == "cable")
    with pytest.raises(InvalidRequest, match="is a cable"):
        compatible_products(recommender, cable.id, None, limit=5)
    module = next(p for p in catalog[0] if p.category == "module")
    with pytest.raises(InvalidRequest, match="unknown uf"):
        compatible_products(recommender, module.id, "XX", limit=5)


def store_tariff(on: date) -> dict[str, ResidentialTariff]:
    tariff = ResidentialTariff(
        cnpj="61695227000193",  # Eletropaulo (ENEL SP), the default utility of SP
        agent="ENEL SP",
        reh="REH 9.999/2026",
        valid_from=date(2026, 7, 4),
        valid_to=date(2027, 7, 3),
        tusd_brl_kwh=0.5,
        te_brl_kwh=0.3,
    )
    return {tariff.cnpj: tariff}


@pytest.mark.parametrize(
    ("load_tariffs", "source", "tariff_brl_kwh"),
    [
        (store_tariff, "tariff store", 0.8),
        (lambda on: {}, "the tariff store has none in force", None),
    ],
)
def test_tariffs_come_from_the_store_and_fall_back_to_the_sample(
    catalog: tuple[list[Product], list[Offer]], load_tariffs: Any, source: str, tariff_brl_kwh: float | None
) -> None:
    recommender = KitRecommender(
        load_catalog=lambda: catalog, load_tariffs=load_tariffs, max_options=1, today=lambda: TODAY
    )
    assert recommender.refresh()
    response = recommender.recommend(RecommendRequest.model_validate({"consumption_kwh_month": 800, **PLACE}))
    assert source in response.tariff.source
    if tariff_brl_kwh is not None:
        assert response.tariff.tariff_brl_kwh == tariff_brl_kwh and response.tariff.utility == "ENEL SP"


def test_the_atlas_loads_from_a_path_or_a_bucket(settings: Settings, s3: S3) -> None:
    data = IRRADIANCE_SAMPLE.read_bytes()
    s3.client().create_bucket(Bucket="atlas")
    s3.client().put_object(Bucket="atlas", Key="solar/irradiancia.csv", Body=data)
    for uri, reading in [
        (str(IRRADIANCE_SAMPLE), settings),
        ("s3://atlas/solar/irradiancia.csv", s3.settings(settings)),
    ]:
        atlas = load_atlas(Resources(reading.model_copy(update={"irradiance_uri": uri})))
        assert atlas.find("recife", "pe").uf == "PE"
