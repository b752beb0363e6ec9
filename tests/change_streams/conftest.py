"""Change-stream tests: the session's tansu broker, a fresh database and topic per test."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kafka import KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient

from common import erp_store, postgres
from common.change_stream import ChangeStreamConfig, ChangeStreamConsumer, Handler, Outcome
from common.settings import Settings
from erp.change_events import ChangeEvent
from tests.conftest import S3
from tests.erp.conftest import seed_catalog
from tests.kafka_broker import TansuBroker

# A group (re)join on tansu waits about half the session timeout: keep it short in tests.
SESSION_TIMEOUT_MS = 3000


@pytest.fixture
def topic(kafka_broker: TansuBroker) -> str:
    """A new topic of two partitions, so tests never see each other's messages."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    kafka_broker.create_topic(name, partitions=2)
    return name


@pytest.fixture
def dsn(fresh_settings: Settings) -> str:
    """A fresh database with the table the test handler writes to."""
    assert fresh_settings.database_url is not None
    with postgres.connect(fresh_settings.database_url) as conn:
        conn.execute(
            "CREATE TABLE applications (id bigserial PRIMARY KEY, topic text, key text, version bigint,"
            " op text, name text)"
        )
        conn.commit()
    return fresh_settings.database_url


def record_application(conn: psycopg.Connection[Any], event: ChangeEvent) -> None:
    """The test handler: one row per call, so a change applied twice shows up twice. A record with
    `"explode": true` fails after its write, which must then be rolled back."""
    record = event.after or event.before or {}
    conn.execute(
        "INSERT INTO applications (topic, key, version, op, name) VALUES (%s, %s, %s, %s, %s)",
        (event.topic, event.key, event.version, event.op, record.get("name")),
    )
    if record.get("explode"):
        raise RuntimeError("handler failed after writing")


def applications(dsn: str) -> list[tuple[str, int, str, str | None]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT key, version, op, name FROM applications ORDER BY id").fetchall()
    return [tuple(row) for row in rows]


def produce(broker: TansuBroker, topic: str, messages: list[tuple[str | None, Any]]) -> None:
    """Send (key, value) pairs in order (one key, one partition); a dict value is sent as JSON,
    bytes as they are, None as a tombstone."""
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    try:
        for key, value in messages:
            raw = json.dumps(value).encode() if isinstance(value, dict) else value
            # One message per request: tansu reports the end offset of a many-message batch short.
            producer.send(topic, key=None if key is None else key.encode(), value=raw).get(timeout=30)
    finally:
        producer.close()


def committed_offsets(broker: TansuBroker, group: str) -> dict[TopicPartition, int]:
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    try:
        offsets = admin.list_group_offsets(group)[group]
    finally:
        admin.close()
    return {tp: meta.offset for tp, meta in offsets.items()}


def drain(consumer: ChangeStreamConsumer, count: int, timeout_s: float = 60.0) -> Counter[Outcome]:
    """Poll until `count` messages were handled (a deadline, not a sleep: fails if they never come)."""
    total: Counter[Outcome] = Counter()
    deadline = time.monotonic() + timeout_s
    while total.total() < count:
        assert time.monotonic() < deadline, f"only {dict(total)} of {count} messages in {timeout_s} s"
        total.update(consumer.poll_once())
    return total


class Consumers:
    """Consumers of one test's group over the session's broker, all closed when the test ends."""

    def __init__(self, broker: TansuBroker, dsn: str) -> None:
        self.broker = broker
        self.dsn = dsn
        self.group = f"group-{uuid.uuid4().hex[:8]}"
        self.opened: list[ChangeStreamConsumer] = []

    def open(
        self,
        topic: str | None = None,
        *,
        handlers: Mapping[str, Handler] | None = None,
        max_poll_records: int = 500,
    ) -> ChangeStreamConsumer:
        """A new member of the group: the test handler on `topic`, or the given handlers."""
        handlers = handlers or {str(topic): record_application}
        config = ChangeStreamConfig(
            bootstrap_servers=self.broker.bootstrap_servers,
            group_id=self.group,
            poll_timeout_ms=200,
            max_poll_records=max_poll_records,
            session_timeout_ms=SESSION_TIMEOUT_MS,
        )
        consumer = ChangeStreamConsumer(config, dsn=self.dsn, handlers=handlers)
        self.opened.append(consumer)
        return consumer

    def committed(self) -> dict[TopicPartition, int]:
        return committed_offsets(self.broker, self.group)


@pytest.fixture
def consumers(kafka_broker: TansuBroker, dsn: str) -> Iterator[Consumers]:
    made = Consumers(kafka_broker, dsn)
    yield made
    for consumer in made.opened:
        consumer.close()


@pytest.fixture
def erp_topics(kafka_broker: TansuBroker, fresh_settings: Settings, dsn: str) -> Settings:
    """Settings naming three new topics, over a database with the ERP schema and a tiny catalog."""
    run = uuid.uuid4().hex[:8]
    settings = fresh_settings.model_copy(
        update={
            "kafka_bootstrap_servers": kafka_broker.bootstrap_servers,
            "kafka_topic_prices": f"{run}.prices",
            "kafka_topic_orders": f"{run}.orders",
            "kafka_topic_homologacao": f"{run}.homologacao",
        }
    )
    for name in (settings.kafka_topic_prices, settings.kafka_topic_orders, settings.kafka_topic_homologacao):
        kafka_broker.create_topic(name)
    with postgres.connect(dsn) as conn:
        postgres.migrate(conn, erp_store.SCHEMA)
        seed_catalog(conn)
    return settings


@pytest.fixture
def durable_kafka_broker(s3: S3, tmp_path: Path) -> Iterator[TansuBroker]:
    """A broker of its own that keeps topics and committed offsets in S3 (moto's server), so a restart
    is a restart and not a new, empty broker."""
    bucket = f"tansu-{uuid.uuid4().hex[:8]}"
    s3.client().create_bucket(Bucket=bucket)
    env = {"AWS_ENDPOINT": s3.endpoint, "AWS_ALLOW_HTTP": "true", "AWS_ACCESS_KEY_ID": "test",
           "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
    broker = TansuBroker(tmp_path / "tansu.log", storage=f"s3://{bucket}/", env=env)
    broker.start()
    yield broker
    broker.stop()
