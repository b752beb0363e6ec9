"""A synthetic catalog of the real size (~11k products, 5 distributors) for kit-composition tests and timing.

Built by the project's own sample generator (`samples.feeds`: CEC module and inverter specs from
pvlib, Brazilian families, kits made of listed parts, offers with stock and lead times), then turned into
`CatalogItem`s the way the recommend endpoint would get them from the catalog tables.
"""

from __future__ import annotations

from catalog.identity import product_id
from samples.feeds.draw import draw_products
from samples.feeds.market import SampleProduct
from solar.offers import CatalogItem, OfferTerms


def _specs(product: SampleProduct) -> dict[str, object]:
    specs: dict[str, object] = dict(product.specs)
    if product.components:
        specs["components"] = [
            {"category": part.category, "brand": part.brand, "model": part.model, "quantity": quantity}
            for part, quantity in product.components
        ]
    return specs


def synthetic_catalog(products: int = 11_000, seed: int = 7) -> list[CatalogItem]:
    draw = draw_products(seed, products)
    offers = draw.offers()
    by_product: dict[int, list[OfferTerms]] = {}
    for listed in offers.values():
        for offer in listed:
            by_product.setdefault(id(offer.product), []).append(
                OfferTerms(
                    distributor=offer.distributor,
                    sku=offer.sku,
                    price_brl=offer.price,
                    stock=offer.stock,
                    lead_time_days=offer.lead_time_days,
                )
            )
    return [
        CatalogItem(
            id=product_id(product.brand, product.model),
            category=product.category,
            brand=product.brand,
            model=product.model,
            title=f"{product.brand} {product.model}",
            specs=_specs(product),
            offers=by_product.get(id(product), []),
        )
        for product in draw.products
    ]
