"""The pure ERP rules and record validation, as tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from erp.records import (
    ErpOrder,
    ErpProduct,
    HomologacaoCheck,
    HomologacaoUpdate,
    PriceEntry,
    rejection_reason,
)
from erp.rules import advance_watermark, backoff_delay, idempotency_key, is_newer, is_retryable_status
from tests.erp.conftest import BAD_IDS, id_refusal

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stored", "incoming", "newer"),
    [(None, 0, True), (1, 2, True), (2, 2, False), (3, 2, False)],
)
def test_only_a_higher_version_is_newer(stored: int | None, incoming: int, newer: bool) -> None:
    assert is_newer(stored, incoming) is newer


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (500, True),
        (502, True),
        (503, True),
        (599, True),
        (429, True),
        (400, False),
        (401, False),
        (404, False),
        (409, False),
        (422, False),
        (200, False),
    ],
)
def test_retry_on_5xx_and_429_only(status: int, retry: bool) -> None:
    assert is_retryable_status(status) is retry


@pytest.mark.parametrize(
    ("attempt", "jitter", "delay"),
    [(0, 0.0, 0.25), (0, 0.5, 0.375), (1, 0.0, 0.5), (2, 0.999, 1.999), (3, 0.0, 1.5), (10, 0.0, 1.5)],
)
def test_backoff_doubles_up_to_the_cap_with_half_jitter(attempt: int, jitter: float, delay: float) -> None:
    assert backoff_delay(attempt, base_s=0.5, cap_s=3.0, jitter=jitter) == pytest.approx(delay, abs=1e-3)


def test_backoff_refuses_a_jitter_outside_the_unit_interval() -> None:
    with pytest.raises(ValueError):
        backoff_delay(0, base_s=1, cap_s=2, jitter=1.0)


@pytest.mark.parametrize(
    ("current", "seen", "expected"),
    [
        (None, [], None),
        (None, [T0, T0 + timedelta(1)], T0 + timedelta(1)),
        (T0, [T0 - timedelta(1)], T0),  # an out-of-order page never moves it back
        (T0, [T0 + timedelta(2), T0 + timedelta(1)], T0 + timedelta(2)),
    ],
)
def test_the_watermark_only_moves_forward(
    current: datetime | None, seen: list[datetime], expected: datetime | None
) -> None:
    assert advance_watermark(current, seen) == expected


def test_idempotency_keys_are_stable_and_distinct() -> None:
    assert idempotency_key("order", "A-1") == idempotency_key("order", "A-1")
    assert (
        len(
            {
                idempotency_key("order", "A-1"),
                idempotency_key("order", "A-2"),
                idempotency_key("check", "A-1"),
            }
        )
        == 3
    )


def product(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "distributor": "Solar Sul",
        "sku": "SS-1",
        "stock": 4,
        "updated_at": T0.isoformat(),
        "version": 3,
        "prices": [{"price_list": "B1", "price_brl": "123.45"}],
    }
    return payload | changes


def test_a_products_prices_inherit_its_key_time_and_version() -> None:
    record = ErpProduct.model_validate(product())
    assert record.prices == [
        PriceEntry(
            distributor="Solar Sul",
            sku="SS-1",
            price_list="B1",
            price_brl=Decimal("123.45"),
            updated_at=T0,
            version=3,
        )
    ]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"stock": -1}, "greater than or equal to 0"),
        ({"updated_at": "2026-11-01T12:00:00"}, "timezone"),
        ({"prices": [{"price_list": "B1", "price_brl": "0"}]}, "greater than 0"),
        ({"prices": [{"price_list": "B1", "price_brl": "1.234"}]}, "decimal places"),
        ({"prices": [{"price_list": "B1", "price_brl": "9", "sku": "OTHER"}]}, "names another SKU"),
        ({"sku": ""}, "at least 1 character"),
    ],
)
def test_invalid_products_are_refused_with_a_reason(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        ErpProduct.model_validate(product(**changes))


@pytest.mark.parametrize(
    ("status", "placed"), [("draft", False), ("placed", True), ("paid", True), ("cancelled", False)]
)
def test_which_statuses_count_as_placed(status: str, placed: bool) -> None:
    order = ErpOrder(order_id="A-1", status=status, updated_at=T0, version=1)
    assert order.is_placed is placed


def test_an_order_refuses_an_unknown_connection_type() -> None:
    with pytest.raises(ValidationError, match="monofasico"):
        ErpOrder.model_validate(
            {
                "order_id": "A-1",
                "status": "placed",
                "updated_at": T0,
                "version": 1,
                "consumer_unit": {"number": "1", "utility": "CEMIG-D", "connection": "tri"},
            }
        )


GOOD_IDS = ["A-1", "PED-2026.11_a", "42", "o-1", "x" * 64, "a..b"]


def refusal(model: type[BaseModel], order_id: str) -> str | None:
    """Why the record with this order id is refused, as its reject keeps it; None when it is valid."""
    try:
        model.model_validate({"order_id": order_id, "status": "placed", "updated_at": T0, "version": 1})
    except ValidationError as error:
        return rejection_reason(error)
    return None


@pytest.mark.parametrize("model", [ErpOrder, HomologacaoUpdate, HomologacaoCheck])
def test_an_order_id_must_be_a_plain_id(model: type[BaseModel]) -> None:
    expected = {
        **{bad: id_refusal(bad) for bad in BAD_IDS.values()},
        **dict.fromkeys(GOOD_IDS),
    }
    assert {order_id: refusal(model, order_id) for order_id in expected} == expected
