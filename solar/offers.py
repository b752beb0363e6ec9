"""What the kit composer is given: catalog products with their offers, and the usable offers of each.

Items are `CatalogItem`s, or plain dicts with the canonical spec keys of `kernel.schemas` and either an
`offers` list or the flat fields (`price_brl`, `stock`, `lead_time_days`) of a single offer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kernel.schemas import Offer, Product


class OfferTerms(BaseModel):
    model_config = ConfigDict(frozen=True)

    distributor: str = ""
    sku: str = ""
    price_brl: float | None = Field(default=None, ge=0)
    stock: int = Field(default=0, ge=0)
    lead_time_days: int = Field(default=0, ge=0)


class CatalogItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    category: str
    brand: str
    model: str
    title: str = ""
    specs: dict[str, Any] = Field(default_factory=dict)
    offers: list[OfferTerms] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _flat_offer(cls, data: Any) -> Any:
        """A dict with price/stock/lead time at the top level is a product with one offer."""
        if isinstance(data, Mapping) and "offers" not in data and "price_brl" in data:
            offer_keys = set(OfferTerms.model_fields)
            offer = {key: value for key, value in data.items() if key in offer_keys}
            return {key: value for key, value in data.items() if key not in offer_keys} | {"offers": [offer]}
        return data


def catalog_items(products: Iterable[Product], offers: Iterable[Offer]) -> list[CatalogItem]:
    """The catalog's stored products and offers (kernel.schemas) joined into CatalogItems."""
    by_product: dict[str, list[OfferTerms]] = {}
    for offer in offers:
        terms = OfferTerms.model_validate(offer.model_dump(include=set(OfferTerms.model_fields)))
        by_product.setdefault(offer.product_id, []).append(terms)
    return [
        CatalogItem(**product.model_dump(), offers=by_product.get(product.id, [])) for product in products
    ]


@dataclass(frozen=True)
class Listing:
    """What a line of a quote needs: the product and its usable offers, cheapest first."""

    id: str
    category: str
    brand: str
    model: str
    title: str
    offers: tuple[OfferTerms, ...]

    def offer_for(self, quantity: int) -> OfferTerms | None:
        """The cheapest offer whose stock covers `quantity` (then the shortest lead time)."""
        return next((offer for offer in self.offers if offer.stock >= quantity), None)


def usable_listing(item: CatalogItem) -> Listing:
    """The item with only its priced, in-stock offers, cheapest (then quickest) first."""
    usable = [offer for offer in item.offers if offer.price_brl is not None and offer.stock > 0]
    usable.sort(key=lambda o: (o.price_brl, o.lead_time_days, o.distributor, o.sku))
    return Listing(item.id, item.category, item.brand, item.model, item.title, tuple(usable))
