"""`POST /store/helio/quote` and `GET /store/helio/products/{id}/compatible`, without Serve or HTTP.

Both work on the recommender's catalog snapshot, site lookup and tariffs; the rules are `solar.quote`
(a cart checked as a system) and `solar.compatibility` (what goes with a product).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kernel.errors import InvalidRequest, NotFound
from kernel.text import fold
from services.recommend import KitRecommender, sizing_view
from services.recommend_models import (
    DEFAULT_ROOF_TYPE,
    ConsumptionFields,
    FinanceView,
    PlaceFields,
    SiteView,
    SizingView,
    TariffView,
)
from solar import GridConnection, size_system
from solar.compatibility import Compatibility, NotAnAnchor, compatible_with
from solar.quote import CartReview, QuoteNeed, UnknownProducts, review_cart

MAX_CART_LINES = 100
MAX_COMPATIBLE = 50


class CartItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1, max_length=64)
    qty: int = Field(ge=1, le=100_000)


class QuoteRequest(ConsumptionFields, PlaceFields):
    model_config = ConfigDict(extra="forbid")

    items: list[CartItem] = Field(min_length=1, max_length=MAX_CART_LINES, description="The cart.")
    connection: Literal["mono", "bi", "tri"] | None = Field(
        default=None, description="Grid connection; needed with a consumption (minimum bill, finance)."
    )

    @model_validator(mode="after")
    def _consumption_needs_a_place(self) -> QuoteRequest:
        self._check_consumption(required=False)
        if self.consumption is not None and not (self.has_place and self.connection):
            raise ValueError("a consumption needs the place (city and uf, or lat and lon) and the connection")
        return self


class QuoteResponse(CartReview):
    ok: bool = Field(description="Every line available and every check passing.")
    site: SiteView | None
    sizing: SizingView | None = Field(description="With a consumption: the kWp the cart is sized against.")
    tariff: TariffView | None
    finance: FinanceView | None = Field(description="With a consumption: for the cart with suggestions.")


def quote_cart(recommender: KitRecommender, request: QuoteRequest) -> QuoteResponse:
    params = recommender.params
    site = recommender.locate(request) if request.has_place else None
    tariff = recommender.tariff(site, request.utility) if site is not None else None
    snapshot = recommender.current_snapshot()
    sizing = None
    consumption = request.consumption
    if consumption is not None and site is not None and request.connection is not None:
        sizing = size_system(consumption, site.hsp, request.connection, params.sizing)
    need = QuoteNeed(
        site=params.site_temperatures(site.uf if site else None),
        roof_type=request.roof_type or DEFAULT_ROOF_TYPE,
        connection=GridConnection(kind=request.connection) if request.connection else None,
        kwp_needed=sizing.kwp_needed if sizing and sizing.kwp_needed > 0 else None,
    )
    try:
        review = review_cart(
            snapshot.index, [(item.product_id, item.qty) for item in request.items], need, params
        )
    except UnknownProducts as error:
        raise InvalidRequest(str(error)) from None
    finance = None
    if sizing is not None and tariff is not None and site is not None and review.dc_power_w > 0:
        assert consumption is not None and request.connection is not None
        finance = recommender.finance(
            review.total_with_suggestions_brl,
            review.dc_power_w,
            consumption,
            request.connection,
            site,
            tariff,
        )
    return QuoteResponse(
        **review.model_dump(),
        ok=all(line.available for line in review.lines) and all(check.ok for check in review.checks),
        site=site,
        sizing=sizing_view(sizing) if sizing else None,
        tariff=tariff,
        finance=finance,
    )


def compatible_products(
    recommender: KitRecommender, product_id: str, uf: str | None, limit: int
) -> Compatibility:
    params = recommender.params
    if uf is not None and fold(uf).upper() not in params.temperatures_by_uf:
        raise InvalidRequest(f"unknown uf {uf!r}: use the two-letter code, e.g. SP")
    site = params.site_temperatures(fold(uf).upper() if uf else None)
    try:
        return compatible_with(recommender.current_snapshot().index, product_id, site, params, limit)
    except KeyError:
        raise NotFound(f"product {product_id!r} is not in the catalog") from None
    except NotAnAnchor as error:
        raise InvalidRequest(str(error)) from None
