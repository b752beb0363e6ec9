"""Kafka change-stream consumer: each message is applied in one Postgres transaction, then offsets commit.

Per message: parse it (`erp.change_events`), then in ONE transaction claim its (topic, key, version)
in the ledger and call the topic's handler; either both happen or neither. Offsets are committed to
Kafka only after the batch's transactions have committed, so a crash in between replays messages
that the ledger then skips: nothing is lost and nothing is applied twice. A message arriving after a
newer one for its key is skipped the same way.

A message that cannot be parsed, or whose handler fails, is kept in `change_stream_dead_letters`
with the reason, and consumption goes on. A database failure (connection lost, serialization
failure) is not the message's fault: it propagates, nothing is committed, and the message is read
again once the consumer is restarted.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, Literal

import psycopg
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError
from kafka.structs import OffsetAndMetadata
from pydantic import BaseModel, Field

from common import postgres
from common.settings import Settings
from erp.change_events import ChangeEvent, ChangeEventError, parse_change

SCHEMA = "change_streams.sql"  # applied by `postgres.migrate(conn, SCHEMA)`

Handler = Callable[[psycopg.Connection[Any], ChangeEvent], None]
"""Applies one event inside the consumer's open transaction; never commits. Raising rolls the whole
message back and sends it to the dead letters."""

log = logging.getLogger(__name__)


class ChangeStreamConfig(BaseModel):
    bootstrap_servers: str = Field(description="Kafka brokers, host:port[,host:port…].")
    group_id: str = Field(description="Consumer group: its committed offsets are where a restart resumes.")
    poll_timeout_ms: int = Field(default=1000, gt=0, description="How long one poll waits for messages.")
    max_poll_records: int = Field(default=500, gt=0, description="Messages per poll, at most.")
    session_timeout_ms: int = Field(
        default=10_000,
        ge=1000,
        description="Group session timeout; a group (re)join waits about half of it on some brokers.",
    )
    auto_offset_reset: Literal["earliest", "latest"] = Field(
        default="earliest", description="Where a group without committed offsets starts."
    )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ChangeStreamConfig:
        if not settings.kafka_bootstrap_servers:
            raise ValueError("KAFKA_BOOTSTRAP_SERVERS is not set")
        return cls(
            bootstrap_servers=settings.kafka_bootstrap_servers, group_id=settings.kafka_group_id, **overrides
        )


class Outcome(StrEnum):
    applied = "applied"
    ignored = "ignored"  # a replay, or older than what its key has applied
    dead_letter = "dead_letter"
    tombstone = "tombstone"  # a null value: nothing to apply


class ChangeStreamConsumer:
    """One consumer-group member over the handlers' topics. Not thread-safe: one loop drives it."""

    def __init__(self, config: ChangeStreamConfig, *, dsn: str, handlers: Mapping[str, Handler]) -> None:
        if not handlers:
            raise ValueError("no handlers: nothing to consume")
        self._config = config
        self._handlers = dict(handlers)
        self._conn = postgres.connect(dsn)
        try:
            # Autocommit outside the explicit transactions: nothing is ever left open between messages.
            self._conn.autocommit = True
            postgres.migrate(self._conn, SCHEMA)
            self._consumer = KafkaConsumer(
                bootstrap_servers=config.bootstrap_servers.split(","),
                group_id=config.group_id,
                enable_auto_commit=False,
                auto_offset_reset=config.auto_offset_reset,
                max_poll_records=config.max_poll_records,
                session_timeout_ms=config.session_timeout_ms,
                heartbeat_interval_ms=config.session_timeout_ms // 3,
            )
        except BaseException:
            self._conn.close()  # a loop retrying an unreachable broker must not leak connections
            raise
        self._consumer.subscribe(topics=sorted(self._handlers))

    def __enter__(self) -> ChangeStreamConsumer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def poll_once(self) -> Counter[Outcome]:
        """One poll: apply every message, then commit their offsets."""
        records = self.fetch()
        outcomes = Counter(self.apply(record) for record in records)
        self.commit(records)
        return outcomes

    def fetch(self) -> list[ConsumerRecord]:
        """The next messages, in offset order per partition (joins the group on the first call)."""
        batch = self._consumer.poll(timeout_ms=self._config.poll_timeout_ms)
        return [record for records in batch.values() for record in records]

    def apply(self, record: ConsumerRecord) -> Outcome:
        try:
            event = parse_change(record.topic, record.key, record.value)
        except ChangeEventError as error:
            return self._dead_letter(record, str(error))
        if event is None:
            return Outcome.tombstone
        try:
            with self._conn.transaction():
                if not self._claim(event, record):
                    return Outcome.ignored
                self._handlers[record.topic](self._conn, event)
        except (psycopg.OperationalError, psycopg.InterfaceError):
            raise  # the database, not the message: retried after a restart
        except Exception as error:  # anything else is this message's fault: keep it, go on
            return self._dead_letter(record, f"{type(error).__name__}: {error}")
        return Outcome.applied

    def commit(self, records: list[ConsumerRecord]) -> None:
        """Commit past the given (applied) messages. Losing the partition to a rebalance meanwhile
        only means its new owner reads them again, and the ledger skips them."""
        offsets = {
            TopicPartition(record.topic, record.partition): OffsetAndMetadata(record.offset + 1, "", -1)
            for record in records  # in offset order: the last one per partition wins
        }
        if not offsets:
            return
        try:
            self._consumer.commit(offsets)
        except CommitFailedError as error:
            log.warning("offsets not committed (group rebalanced); they will be replayed: %s", error)

    def lag(self) -> dict[TopicPartition, int]:
        """Messages behind the end offset, per assigned partition."""
        partitions = list(self._consumer.assignment())
        if not partitions:
            return {}
        ends = self._consumer.end_offsets(partitions)
        # Floor at 0: tansu (the test broker) reports the end of a multi-message batch short.
        return {tp: max(ends[tp] - self._consumer.position(tp), 0) for tp in partitions}

    def close(self) -> None:
        """Leave the group (its partitions move to another member at once) without committing."""
        self._consumer.close(autocommit=False)
        self._conn.close()

    def _claim(self, event: ChangeEvent, record: ConsumerRecord) -> bool:
        """Record the event as its key's newest; False (and nothing written) when the key has already
        applied this version or a newer one. A delete of version N orders after version N itself."""
        row = self._conn.execute(
            """
            INSERT INTO change_stream_ledger (topic, key, version, deleted, "partition", "offset")
            VALUES (%s, %s, %s, %s, %s, %s)
            ON CONFLICT (topic, key) DO UPDATE SET
                version = EXCLUDED.version, deleted = EXCLUDED.deleted, "partition" = EXCLUDED."partition",
                "offset" = EXCLUDED."offset", applied_at = now()
            WHERE (change_stream_ledger.version, change_stream_ledger.deleted)
                < (EXCLUDED.version, EXCLUDED.deleted)
            RETURNING 1 AS claimed
            """,
            (event.topic, event.key, event.version, event.is_delete, record.partition, record.offset),
        ).fetchone()
        return row is not None

    def _dead_letter(self, record: ConsumerRecord, reason: str) -> Outcome:
        log.warning("dead letter %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason[:500])
        with self._conn.transaction():
            self._conn.execute(
                """
                INSERT INTO change_stream_dead_letters (topic, "partition", "offset", key, value, reason)
                VALUES (%s, %s, %s, %s, %s, %s)
                ON CONFLICT (topic, "partition", "offset") DO NOTHING
                """,
                (
                    record.topic,
                    record.partition,
                    record.offset,
                    record.key,
                    record.value,
                    reason.replace("\x00", ""),  # Postgres text cannot hold NUL
                ),
            )
        return Outcome.dead_letter
