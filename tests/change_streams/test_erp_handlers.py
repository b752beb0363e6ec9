"""The ERP handlers end to end: one message per ERP topic through the broker into `common.erp_store`,
and the ERP records that fail validation kept as dead letters with pydantic's message."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import psycopg

from common.change_stream import Outcome
from common.settings import Settings
from ray_jobs.change_streams import erp_handlers
from tests.change_streams.conftest import Consumers, drain, produce
from tests.erp.conftest import BAD_IDS, id_refusal
from tests.kafka_broker import TansuBroker

NOW = "2026-11-25T03:00:00+00:00"


def test_one_message_per_topic_reaches_the_erp_tables(
    kafka_broker: TansuBroker, erp_topics: Settings, consumers: Consumers, dsn: str
) -> None:
    price = {"distributor": "Solar Sul", "sku": "SS-1", "price_list": "B1", "price_brl": "123.45",
             "updated_at": NOW, "version": 3}  # fmt: skip
    order = {"order_id": "o-1", "status": "paid", "updated_at": NOW, "version": 1}
    homologacao = {"order_id": "o-1", "status": "submitted", "updated_at": NOW, "version": 2}
    produce(kafka_broker, erp_topics.kafka_topic_prices, [
        ("Solar Sul/SS-1/B1", price),
        ("Solar Sul/SS-2/B1", {**price, "sku": "SS-2", "price_brl": "-1"}),
    ])  # fmt: skip
    produce(kafka_broker, erp_topics.kafka_topic_orders, [
        ("o-1", {"op": "c", "before": None, "after": order, "source": {"lsn": 77}}),
        ("o-1", {"op": "d", "before": order, "after": None, "source": {"lsn": 78}}),
    ])  # fmt: skip
    produce(kafka_broker, erp_topics.kafka_topic_homologacao, [
        ("o-1", {"schema": {"type": "struct"}, "payload": {"op": "u", "after": homologacao, "source": {}}}),
    ])  # fmt: skip

    consumer = consumers.open(handlers=erp_handlers(erp_topics))
    assert drain(consumer, 5) == Counter({Outcome.applied: 3, Outcome.dead_letter: 2})

    with psycopg.connect(dsn) as conn:
        offer = conn.execute("SELECT price_brl FROM offers WHERE sku = 'SS-1'").fetchone()
        orders = conn.execute("SELECT order_id, status, version FROM orders").fetchall()
        status = conn.execute("SELECT order_id, status, version FROM homologacao_status").fetchall()
        reasons = dict(conn.execute("SELECT topic, reason FROM change_stream_dead_letters").fetchall())
    assert offer == (Decimal("123.45"),)
    assert orders == [("o-1", "paid", 1)]
    assert status == [("o-1", "submitted", 2)]
    assert reasons[erp_topics.kafka_topic_prices].startswith(
        "ValidationError: 1 validation error for PriceEntry"
    )
    assert "price_brl" in reasons[erp_topics.kafka_topic_prices]
    assert reasons[erp_topics.kafka_topic_orders] == (
        "ValueError: deletes are not applied to ErpOrder: the ERP never deletes them"
    )


def test_records_whose_order_id_is_no_plain_id_become_dead_letters_with_the_reason(
    kafka_broker: TansuBroker, erp_topics: Settings, consumers: Consumers, dsn: str
) -> None:
    topics = (erp_topics.kafka_topic_orders, erp_topics.kafka_topic_homologacao)
    for topic in topics:
        produce(kafka_broker, topic, [
            (f"k-{n}", {"order_id": order_id, "status": "placed", "updated_at": NOW, "version": 1})
            for n, order_id in enumerate(("o-1", *BAD_IDS.values()))
        ])  # fmt: skip

    consumer = consumers.open(handlers=erp_handlers(erp_topics))
    total = 2 * (1 + len(BAD_IDS))
    assert drain(consumer, total) == Counter({Outcome.applied: 2, Outcome.dead_letter: total - 2})

    with psycopg.connect(dsn) as conn:
        orders = conn.execute("SELECT order_id FROM orders").fetchall()
        status = conn.execute("SELECT order_id FROM homologacao_status").fetchall()
        letters = conn.execute("SELECT topic, value, reason FROM change_stream_dead_letters").fetchall()
    assert orders == status == [("o-1",)]
    refused = {(topic, json.loads(bytes(value))["order_id"]): reason for topic, value, reason in letters}
    assert refused.keys() == {(topic, bad) for topic in topics for bad in BAD_IDS.values()}
    for (_, bad), reason in refused.items():
        assert f"order_id\n  {id_refusal(bad).removeprefix('order_id: ')}" in reason  # pydantic's layout
