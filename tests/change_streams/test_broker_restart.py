"""A Kafka broker restarted mid-stream: no message lost or applied twice. The broker keeps its topics
and offsets in S3 (moto) across the restart, as a production broker keeps them on disk."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from kafka.consumer.fetcher import ConsumerRecord

from common.change_stream import ChangeStreamConsumer, Outcome
from tests.change_streams.conftest import Consumers, applications, committed_offsets, drain, produce
from tests.kafka_broker import TansuBroker

pytestmark = pytest.mark.slow


def test_a_broker_restart_between_applying_and_committing_loses_and_repeats_nothing(
    durable_kafka_broker: TansuBroker, dsn: str
) -> None:
    broker, topic = durable_kafka_broker, "ysh-erp.orders"
    broker.create_topic(topic, partitions=2)
    consumers = Consumers(broker, dsn)
    consumer = consumers.open(topic)
    try:
        produce(broker, topic, [("a", {"name": "a1", "version": 1}), ("b", {"name": "b1", "version": 1})])
        assert drain(consumer, 2) == Counter({Outcome.applied: 2})

        produce(broker, topic, [("a", {"name": "a2", "version": 2}), ("c", {"name": "c1", "version": 1})])
        records: list[ConsumerRecord] = []
        while len(records) < 2:
            records += consumer.fetch()
        assert [consumer.apply(record) for record in records] == [Outcome.applied] * 2
        broker.restart()  # the offsets of a2 and c1 are not committed yet
        consumer.commit(records)  # succeeds on the restarted broker, or is replayed later: either is fine

        produce(broker, topic, [("d", {"name": "d1", "version": 1})])
        outcomes = until_committed(consumer, broker, consumers.group, total=5)
    finally:
        consumer.close()
    assert outcomes[Outcome.applied] == 1 and outcomes[Outcome.ignored] in (0, 2)  # replays are skipped
    assert sorted(applications(dsn)) == [
        ("a", 1, "u", "a1"), ("a", 2, "u", "a2"), ("b", 1, "u", "b1"), ("c", 1, "u", "c1"),
        ("d", 1, "u", "d1"),
    ]  # fmt: skip


def until_committed(
    consumer: ChangeStreamConsumer, broker: TansuBroker, group: str, total: int, timeout_s: float = 60.0
) -> Counter[Outcome]:
    """Poll until the group's committed offsets add up to `total` messages."""
    outcomes: Counter[Outcome] = Counter()
    deadline = time.monotonic() + timeout_s
    while sum(committed_offsets(broker, group).values()) < total:
        assert time.monotonic() < deadline, f"not all {total} messages committed: {dict(outcomes)}"
        outcomes.update(consumer.poll_once())
    return outcomes
