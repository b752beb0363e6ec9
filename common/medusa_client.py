"""HTTP client of the storefront's Medusa v2 server: its Admin API, as the storefront jobs use it.

It signs in with the admin credential (`POST /auth/user/emailpass`, a bearer token), sets the store up
for the marketplace once (BRL, a Brazil region, a sales channel, a category per catalog category, a stock
location per distributor, a publishable key for the Store API), and writes products in batches. A
connection error, a timeout or a 5xx is `MedusaUnavailable` (the run fails and says so); a 4xx is
`MedusaRefused` with Medusa's own message (the product it concerns is kept as a reject).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from catalog.storefront import (
    CATEGORY_NAMES,
    CURRENCY,
    DISTRIBUTOR_OPTION,
    StorefrontProduct,
    StorefrontVariant,
    location_name,
)
from common.settings import Settings

REGION = "Brasil"
SALES_CHANNEL = "Marketplace"
PUBLISHABLE_KEY = "Loja"
PRODUCT_FIELDS = "id,handle,status,*options,*variants,*variants.options,*variants.inventory_items"


class MedusaError(Exception):
    """Medusa could not be used for this request."""


class MedusaUnavailable(MedusaError):
    """No answer, or a 5xx: the server is down or failing; try the run again later."""


class MedusaRefused(MedusaError):
    """A 4xx: Medusa refused what was sent, and would again."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(f"Medusa refused the request ({status_code}): {message}")
        self.status_code = status_code
        self.message = message


@dataclass(frozen=True)
class StoreSetup:
    region_id: str
    sales_channel_id: str
    categories: dict[str, str]  # catalog category → Medusa product category id
    locations: dict[str, str]  # distributor → stock location id
    publishable_key: str


@dataclass(frozen=True)
class MedusaVariant:
    variant_id: str
    inventory_item_id: str


@dataclass(frozen=True)
class MedusaProduct:
    """A product as it stands in Medusa: its ids, and its variants by distributor."""

    id: str
    handle: str
    option_id: str
    variants: dict[str, MedusaVariant]


class MedusaAdmin:
    def __init__(self, base_url: str, *, email: str, password: str, timeout_s: float = 30.0) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self._credential = {"email": email, "password": password}
        self._token: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> MedusaAdmin:
        if not settings.medusa_url:
            raise ValueError("MEDUSA_URL is not set")
        if not settings.medusa_admin_email or settings.medusa_admin_password is None:
            raise ValueError("MEDUSA_ADMIN_EMAIL and MEDUSA_ADMIN_PASSWORD must be set with MEDUSA_URL")
        return cls(
            settings.medusa_url,
            email=settings.medusa_admin_email,
            password=settings.medusa_admin_password.get_secret_value(),
            timeout_s=settings.medusa_timeout_s,
        )

    def __enter__(self) -> MedusaAdmin:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise MedusaUnavailable(f"Medusa at {self._http.base_url} did not answer: {error!r}") from error
        if response.status_code >= 500:
            raise MedusaUnavailable(f"Medusa failed ({response.status_code}): {response.text[:300]}")
        if response.status_code >= 400:
            try:
                message = str(response.json().get("message", response.text))
            except ValueError:
                message = response.text
            raise MedusaRefused(response.status_code, message[:1000])
        return response

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One Admin API call, signed in (once more when the token has expired)."""
        try:
            return self._signed(method, path, **kwargs)
        except MedusaRefused as refused:
            if refused.status_code != 401:
                raise
            self._token = None
            return self._signed(method, path, **kwargs)

    def _signed(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if self._token is None:
            login = self._send("POST", "/auth/user/emailpass", json=self._credential)
            self._token = str(login.json()["token"])
        body: dict[str, Any] = self._send(
            method, path, headers={"Authorization": f"Bearer {self._token}"}, **kwargs
        ).json()
        return body

    def _listing(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self.request("GET", path, params={**params, "limit": 200, "offset": len(items)})
            items += page[key]
            if not page[key] or len(items) >= page.get("count", 0):
                return items

    # The store, set up once: each step finds what an earlier run made before making it.

    def store_setup(self, distributors: Iterable[str]) -> StoreSetup:
        [store] = self.request("GET", "/admin/stores")["stores"]
        if CURRENCY not in {c["currency_code"] for c in store["supported_currencies"]}:
            currencies = [{"currency_code": CURRENCY, "is_default": True}]
            self.request("POST", f"/admin/stores/{store['id']}", json={"supported_currencies": currencies})
        region = self._find_or_create(
            "/admin/regions", "regions", "region", "name", REGION,
            {"name": REGION, "currency_code": CURRENCY, "countries": ["br"]},
        )  # fmt: skip
        channel = self._find_or_create(
            "/admin/sales-channels", "sales_channels", "sales_channel", "name", SALES_CHANNEL,
            {"name": SALES_CHANNEL, "description": "O marketplace: o catálogo publicado pela plataforma."},
        )  # fmt: skip
        categories = {
            category: self._find_or_create(
                "/admin/product-categories", "product_categories", "product_category", "handle", category,
                {"name": name, "handle": category, "is_active": True},
            )["id"]
            for category, name in CATEGORY_NAMES.items()
        }  # fmt: skip
        locations: dict[str, str] = {}
        known = {loc["name"]: loc for loc in self._listing("/admin/stock-locations", "stock_locations")}
        for distributor in sorted(set(distributors)):
            name = location_name(distributor)
            if name not in known:
                known[name] = self.request("POST", "/admin/stock-locations", json={"name": name})[
                    "stock_location"
                ]
                path = f"/admin/stock-locations/{known[name]['id']}/sales-channels"
                self.request("POST", path, json={"add": [channel["id"]]})
            locations[distributor] = known[name]["id"]
        key = self._find_or_create(
            "/admin/api-keys", "api_keys", "api_key", "title", PUBLISHABLE_KEY,
            {"title": PUBLISHABLE_KEY, "type": "publishable"},
        )  # fmt: skip
        if channel["id"] not in {c["id"] for c in key.get("sales_channels") or []}:
            self.request("POST", f"/admin/api-keys/{key['id']}/sales-channels", json={"add": [channel["id"]]})
        return StoreSetup(region["id"], channel["id"], categories, locations, key["token"])

    def _find_or_create(
        self, path: str, plural: str, singular: str, field: str, value: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        params = {"fields": "*sales_channels"} if plural == "api_keys" else {}
        for item in self._listing(path, plural, **params):
            if item.get(field) == value:
                return item
        created: dict[str, Any] = self.request("POST", path, json=body)[singular]
        return created

    # Products.

    def products(self, *, handles: Sequence[str] = (), ids: Sequence[str] = ()) -> dict[str, MedusaProduct]:
        """The products of these handles or ids that exist, by handle."""
        found: dict[str, MedusaProduct] = {}
        for field, values in (("handle", handles), ("id", ids)):
            for start in range(0, len(values), 100):
                chunk = list(values[start : start + 100])
                params = {field: chunk, "fields": PRODUCT_FIELDS}
                for item in self._listing("/admin/products", "products", **params):
                    found[item["handle"]] = _medusa_product(item)
        return found

    def create_products(
        self, products: Sequence[StorefrontProduct], setup: StoreSetup
    ) -> dict[str, MedusaProduct]:
        """Creates them, published, in one batch; by handle. One refused product refuses the batch:
        the caller sends a refused batch again one product at a time to find it."""
        body = {"create": [_product_fields(p, setup) | _create_variants(p) for p in products]}
        created = self.request("POST", "/admin/products/batch", json=body)["created"]
        return self.products(ids=[item["id"] for item in created])

    def update_product(
        self, product: StorefrontProduct, current: MedusaProduct, setup: StoreSetup
    ) -> MedusaProduct:
        """Brings a published product to `product`: its fields, published again, and its variants —
        prices of the distributors it keeps, new ones added, those gone deleted."""
        fields = {"id": current.id, **_product_fields(product, setup)}
        self.request("POST", "/admin/products/batch", json={"update": [fields]})
        wanted = {v.distributor: v for v in product.variants}
        new = [wanted[d] for d in wanted if d not in current.variants]
        if new:
            add = [{"value": v.distributor} for v in new]
            update = {"product_option_id": current.option_id, "add": add}
            self.request("POST", f"/admin/products/{current.id}/options/batch", json={"update": [update]})
        self.request(
            "POST",
            f"/admin/products/{current.id}/variants/batch",
            json={
                "create": [_variant(v) for v in new],
                "update": [
                    {"id": current.variants[d].variant_id, **_price(v)}
                    for d, v in wanted.items()
                    if d in current.variants
                ],
                "delete": [variant.variant_id for d, variant in current.variants.items() if d not in wanted],
            },
        )
        return self.products(ids=[current.id])[current.handle]

    def unpublish(self, product_ids: Sequence[str]) -> None:
        """Back to draft: gone from the Store API, kept with its ids for orders that name it."""
        if product_ids:
            update = [{"id": product_id, "status": "draft"} for product_id in product_ids]
            self.request("POST", "/admin/products/batch", json={"update": update})

    def stock_levels(self, inventory_item_ids: Sequence[str]) -> set[tuple[str, str]]:
        """The (inventory item, stock location) pairs that have a level."""
        pairs: set[tuple[str, str]] = set()
        for start in range(0, len(inventory_item_ids), 100):
            chunk = list(inventory_item_ids[start : start + 100])
            items = self._listing(
                "/admin/inventory-items", "inventory_items", id=chunk, fields="id,*location_levels"
            )
            pairs |= {
                (item["id"], level["location_id"]) for item in items for level in item["location_levels"]
            }
        return pairs

    def set_stock(self, levels: Sequence[tuple[str, str, int]], *, new: bool) -> None:
        """(inventory item, stock location, quantity) each: levels made (`new`) or changed."""
        if levels:
            rows = [
                {"inventory_item_id": i, "location_id": loc, "stocked_quantity": q} for i, loc, q in levels
            ]
            body = {"create": rows} if new else {"update": rows}
            self.request("POST", "/admin/inventory-items/location-levels/batch", json=body)


def _product_fields(product: StorefrontProduct, setup: StoreSetup) -> dict[str, Any]:
    return {
        "title": product.title,
        "handle": product.handle,
        "description": product.description,
        "status": "published",
        "categories": [{"id": setup.categories[product.category]}],
        "sales_channels": [{"id": setup.sales_channel_id}],
        "metadata": product.metadata,
    }


def _create_variants(product: StorefrontProduct) -> dict[str, Any]:
    return {
        "options": [{"title": DISTRIBUTOR_OPTION, "values": [v.distributor for v in product.variants]}],
        "variants": [_variant(v) for v in product.variants],
    }


def _price(variant: StorefrontVariant) -> dict[str, Any]:
    return {
        "prices": [{"amount": variant.price_brl, "currency_code": CURRENCY}],
        "metadata": {"distributor": variant.distributor, "lead_time_days": variant.lead_time_days},
    }


def _variant(variant: StorefrontVariant) -> dict[str, Any]:
    return {
        "title": variant.distributor,
        "sku": variant.sku,
        "options": {DISTRIBUTOR_OPTION: variant.distributor},
        "manage_inventory": True,
        **_price(variant),
    }


def _medusa_product(item: dict[str, Any]) -> MedusaProduct:
    [option] = [o for o in item["options"] if o["title"] == DISTRIBUTOR_OPTION]
    variants = {}
    for variant in item["variants"]:
        [value] = [o["value"] for o in variant["options"]]
        [link] = variant["inventory_items"]
        variants[value] = MedusaVariant(variant["id"], link["inventory_item_id"])
    return MedusaProduct(item["id"], item["handle"], option["id"], variants)
