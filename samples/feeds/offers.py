"""Who sells what: each product gets one to three distributors, each with its own SKU, price, stock and
its own spelling of brand and model (all of which normalise back to the product's brand and model)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping

from catalog.identity import normalize_brand, normalize_model
from samples.feeds.market import Market, SampleOffer, SampleProduct

_LEGAL_FORMS = (" Ltda.", " Inc.", " Co., Ltd.", " S.A.")
_SELLER_WEIGHTS = (8, 4, 2, 1)  # the first seller listed in market.yaml is the usual one


def brand_spellings(brand: str, aliases: Mapping[str, str], names: Mapping[str, list[str]]) -> list[str]:
    """How distributors write a brand: as is, in capitals, with a legal form, or by another known name."""
    spellings = [brand, brand, brand.upper(), *(brand + form for form in _LEGAL_FORMS), *names.get(brand, [])]
    unknown = [s for s in spellings if normalize_brand(s, aliases) != brand]
    if unknown:
        raise ValueError(f"brand spellings {unknown} do not normalise back to {brand!r}")
    return spellings


def model_spelling(rng: random.Random, model: str) -> str:
    spelled = rng.choice((model, model, model.replace("-", " "), model.lower(), model.replace("-", " - ")))
    if normalize_model(spelled) != model:
        raise ValueError(f"model spelling {spelled!r} does not normalise back to {model!r}")
    return spelled


def _sellers(rng: random.Random, market: Market, product: SampleProduct) -> list[str]:
    candidates = market.sellers[product.category]
    first = rng.choices(candidates, weights=_SELLER_WEIGHTS[: len(candidates)])[0]
    sellers = [first]
    others = [name for name in candidates if name != first]
    if others and rng.random() < market.second_seller_rate:
        sellers.append(others.pop(rng.randrange(len(others))))
        if others and rng.random() < market.third_seller_rate:
            sellers.append(rng.choice(others))
    return sellers


def assign_offers(
    rng: random.Random,
    market: Market,
    products: list[SampleProduct],
    brand_names: Mapping[str, list[str]],
    aliases: Mapping[str, str],
    sku_formats: Mapping[str, Callable[[int, SampleProduct], str]],
    issued: Counter[str],
) -> dict[str, list[SampleOffer]]:
    """Offers per distributor, in catalog order; `sku_formats` makes a distributor's n-th SKU, and `issued`
    counts the SKUs each distributor has handed out (in earlier chunks, then these)."""
    offers: dict[str, list[SampleOffer]] = {name: [] for name in sku_formats}
    spellings: dict[str, list[str]] = {}
    for product in products:
        if product.brand not in spellings:
            spellings[product.brand] = brand_spellings(product.brand, aliases, brand_names)
        for distributor in _sellers(rng, market, product):
            spread = rng.uniform(-market.price_spread, market.price_spread)
            in_stock = rng.random() < market.in_stock_rate
            issued[distributor] += 1
            offers[distributor].append(
                SampleOffer(
                    product=product,
                    distributor=distributor,
                    sku=sku_formats[distributor](issued[distributor], product),
                    price=round(product.reference_price * (1 + spread), 2),
                    stock=rng.randint(1, market.stock_max) if in_stock else 0,
                    lead_time_days=rng.randint(0, market.lead_time_days_max),
                    brand_text=rng.choice(spellings[product.brand]),
                    model_text=model_spelling(rng, product.model),
                )
            )
    return offers
