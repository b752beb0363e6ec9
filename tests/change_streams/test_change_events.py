"""Kafka messages → change events: plain JSON, the Debezium envelope bare or in the JSON converter's
schema wrapper, keys, versions, and the messages that must be refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from erp.change_events import ChangeEvent, ChangeEventError, Op, parse_change

ORDER = {"order_id": "o-1", "status": "paid", "version": 7}
SOURCE = {"connector": "postgresql", "lsn": 24023128}


def wrapped(payload: Any) -> dict[str, Any]:
    """As Kafka Connect's JSON converter writes it with `schemas.enable=true`."""
    return {"schema": {"type": "struct", "optional": False}, "payload": payload}


def raw(document: Any) -> bytes:
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("key", "value", "op", "after", "before", "version"),
    [
        pytest.param(b"o-1", raw(ORDER), "u", ORDER, None, 7, id="plain-record"),
        pytest.param(
            b"o-1", raw({"op": "c", "before": None, "after": ORDER, "source": SOURCE}), "c", ORDER, None, 7,
            id="debezium-create-record-version-wins",
        ),
        pytest.param(
            b"o-1", raw({"op": "u", "before": {"x": 1}, "after": {"x": 2}, "source": SOURCE}), "u",
            {"x": 2}, {"x": 1}, 24023128, id="debezium-update-lsn",
        ),
        pytest.param(
            b"o-1", raw({"op": "r", "after": ORDER, "source": SOURCE}), "r", ORDER, None, 7,
            id="debezium-snapshot-read",
        ),
        pytest.param(
            b"o-1", raw({"op": "d", "before": ORDER, "after": None, "source": SOURCE}), "d", None, ORDER, 7,
            id="debezium-delete-version-of-before",
        ),
        pytest.param(
            b"o-1", raw(wrapped({"op": "u", "before": None, "after": ORDER, "source": SOURCE})), "u",
            ORDER, None, 7, id="json-converter-schema-wrapper",
        ),
        pytest.param(b'"o-1"', raw(ORDER), "u", ORDER, None, 7, id="json-string-key"),
    ],
)  # fmt: skip
def test_parses(key: bytes, value: bytes, op: Op, after: Any, before: Any, version: int) -> None:
    event = parse_change("ysh-erp.orders", key, value)
    assert event == ChangeEvent(
        topic="ysh-erp.orders",
        key="o-1",
        op=op,
        after=after,
        before=before,
        version=version,
    )


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (b'{"sku": "SS-1", "distributor": "Solar Sul"}', '{"distributor":"Solar Sul","sku":"SS-1"}'),
        (
            raw(wrapped({"sku": "SS-1", "distributor": "Solar Sul"})),
            '{"distributor":"Solar Sul","sku":"SS-1"}',
        ),
        (b"42", "42"),
        (b"pedido 42", "pedido 42"),
    ],
)
def test_keys_are_canonical(key: bytes, expected: str) -> None:
    event = parse_change("t", key, raw(ORDER))
    assert event is not None
    assert event.key == expected


@pytest.mark.parametrize("value", [None, raw(wrapped(None))], ids=["null", "wrapped-null"])
def test_tombstones_carry_nothing(value: bytes | None) -> None:
    assert parse_change("t", b"o-1", value) is None


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        (b"o-1", b"{not json", "value is not JSON"),
        (b"o-1", b"\xff\xfe", "value is not UTF-8"),
        (b"o-1", raw([ORDER]), "not an object"),
        (b"o-1", raw({"order_id": "o-1"}), "no version"),
        (b"o-1", raw({**ORDER, "version": -1}), "not a non-negative integer"),
        (b"o-1", raw({**ORDER, "version": "7"}), "not a non-negative integer"),
        (b"o-1", raw({**ORDER, "version": True}), "not a non-negative integer"),
        (b"o-1", raw({"op": "u", "after": {"x": 1}, "source": {"lsn": None}}), "no version"),
        (b"o-1", raw({"op": "t", "after": None, "source": SOURCE}), "unsupported Debezium op 't'"),
        (b"o-1", raw({"op": "c", "after": None, "source": SOURCE}), "without `after`"),
        (b"o-1", raw({"op": "d", "before": None, "source": SOURCE}), "without `before`"),
        (b"o-1", raw({"op": "u", "after": [1], "source": SOURCE}), "after is list"),
        (None, raw(ORDER), "without a key"),
        (b"", raw(ORDER), "empty key"),
        (b"\xff", raw(ORDER), "key is not UTF-8"),
    ],
)
def test_refuses(key: bytes | None, value: bytes, reason: str) -> None:
    with pytest.raises(ChangeEventError, match=reason):
        parse_change("t", key, value)
