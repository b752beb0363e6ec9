"""ERP payloads as validated records: products with their price lists and stock, orders, homologação
status. The same records come from the ERP's HTTP API (`common.erp_client`) and from its change stream
(Kafka), and `common.erp_store` applies them.

Every record carries the ERP's `version`, monotonic per record key: it is what makes an update arriving
twice, or after a newer one, a no-op (see `erp.rules.is_newer`).

An order id becomes a folder (`<documents>/<order_id>/`) and a segment of an ERP URL, so it is an
`ExternalId`: a record with any other order id is refused, and kept as a reject, where it enters.
Distributor names and SKUs stay free text: they only travel in JSON bodies and SQL parameters, and
real ones hold spaces and slashes ("Solar Sul", "JAM60S02-280/PR").
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, ValidationError, model_validator

# One path segment that no filesystem or URL reads as anything but a name: ASCII letters and digits plus
# `.`, `_` and `-` (no separator, no `%` escape, no look-alike from another script, which could not be
# told apart in a log), starting with a letter or digit (so never `.`, `..`, a hidden file or an option),
# at most 64 characters (the API's id limit, and `pedido-<id>` still fits a case id).
EXTERNAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def external_id(value: str) -> str:
    # fullmatch, not a pattern with `$`: Python's `$` also matches before a trailing newline
    if EXTERNAL_ID.fullmatch(value) is None:
        raise ValueError(
            f"{value[:80]!r} is not an id: 1 to 64 ASCII letters, digits, '.', '_' or '-',"
            " starting with a letter or a digit"
        )
    return value


ExternalId = Annotated[str, AfterValidator(external_id)]

Connection = Literal["monofasico", "bifasico", "trifasico"]
# Statuses after which an order counts as placed: an order first seen as "paid" was placed too.
PLACED_STATUSES = frozenset({"placed", "paid", "invoiced", "shipped", "delivered"})


class PriceEntry(BaseModel):
    """One row of a named price list (tabela de preços: "B1", "B3", …) for one distributor SKU."""

    distributor: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    price_list: str = Field(min_length=1, description='Name of the ERP price list, e.g. "B1".')
    price_brl: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    updated_at: AwareDatetime
    version: int = Field(ge=0, description="Monotonic per (distributor, sku, price_list).")


class ErpProduct(BaseModel):
    """A distributor SKU as the ERP sees it: stock and every price list it appears in.

    In the API payload a price may leave out `distributor`, `sku`, `updated_at` and `version`: it then
    takes the product's. A price naming another SKU is refused rather than filed under the wrong one."""

    distributor: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    prices: list[PriceEntry] = Field(default_factory=list)
    stock: int = Field(ge=0)
    updated_at: AwareDatetime
    version: int = Field(ge=0, description="Monotonic per (distributor, sku); covers stock.")

    @model_validator(mode="before")
    @classmethod
    def _prices_inherit(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("prices"), list):
            return data
        inherited = {key: data.get(key) for key in ("distributor", "sku", "updated_at", "version")}
        prices = [{**inherited, **price} if isinstance(price, dict) else price for price in data["prices"]]
        return {**data, "prices": prices}

    @model_validator(mode="after")
    def _prices_are_this_skus(self) -> ErpProduct:
        for price in self.prices:
            if (price.distributor, price.sku) != (self.distributor, self.sku):
                raise ValueError(f"price list {price.price_list} names another SKU: {price.sku}")
        return self


class OrderItem(BaseModel):
    product_id: str | None = None
    sku: str | None = None
    distributor: str | None = None
    quantity: int = Field(gt=0)


class ConsumerUnit(BaseModel):
    """The unidade consumidora the order's system will be connected to."""

    number: str = Field(min_length=1)
    utility: str = Field(min_length=1, description="Distribuidora de energia (e.g. CEMIG-D).")
    connection: Connection
    uf: str | None = Field(default=None, min_length=2, max_length=2)


class ErpOrder(BaseModel):
    order_id: ExternalId = Field(description="The platform's order id.")
    erp_order_id: str | None = Field(default=None, description="The ERP's id, once it has the order.")
    status: str = Field(min_length=1, description='"placed", "paid", "shipped", "cancelled", …')
    customer_name: str | None = None
    consumer_unit: ConsumerUnit | None = None
    items: list[OrderItem] = Field(default_factory=list)
    total_brl: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    updated_at: AwareDatetime
    version: int = Field(ge=0, description="Monotonic per order_id.")

    @property
    def is_placed(self) -> bool:
        return self.status in PLACED_STATUSES


class HomologacaoUpdate(BaseModel):
    """The state of an order's grid-connection request (homologação) at the utility, as the ERP tracks it."""

    order_id: ExternalId
    status: str = Field(min_length=1, description='"pending", "submitted", "approved", "rejected", …')
    detail: str | None = None
    updated_at: AwareDatetime
    version: int = Field(ge=0, description="Monotonic per order_id.")


class HomologacaoCheck(BaseModel):
    """The platform's check of an order's homologação package, sent back to the ERP."""

    order_id: ExternalId
    status: str = Field(min_length=1, description='"ok", "pending", "failed", …')
    items: list[dict[str, Any]] = Field(
        default_factory=list, description="One entry per checked requirement (name, ok, detail)."
    )


class Page(BaseModel):
    """One page of an ERP listing: raw items (each validated on its own, so one bad item is rejected
    alone) and the cursor of the next page, None on the last."""

    items: list[dict[str, Any]]
    next_cursor: str | None = None


def rejection_reason(error: ValueError) -> str:
    """Why a record was refused, on one line, as its reject keeps it: each field with pydantic's message
    for a validation error (whose own text starts with a count of errors), else the error's text."""
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
    return str(error)
