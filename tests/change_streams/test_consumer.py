"""The change-stream consumer against a real Kafka-protocol broker (tansu) and a real Postgres:
offsets committed after the database, restarts without loss or duplicates, dead letters, ordering."""

from __future__ import annotations

from collections import Counter
from typing import Any

import psycopg
from kafka.consumer.fetcher import ConsumerRecord

from common.change_stream import Outcome
from tests.change_streams.conftest import Consumers, applications, drain, produce
from tests.kafka_broker import TansuBroker


def change(name: str, version: int, **extra: Any) -> dict[str, Any]:
    return {"name": name, "version": version, **extra}


def dead_letters(dsn: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            'SELECT "offset", key, value, reason FROM change_stream_dead_letters ORDER BY "offset"'
        ).fetchall()
    return [
        (offset, bytes(key) if key else None, bytes(value), reason) for offset, key, value, reason in rows
    ]


def ledger(dsn: str) -> dict[str, tuple[int, bool]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT key, version, deleted FROM change_stream_ledger").fetchall()
    return {key: (version, deleted) for key, version, deleted in rows}


def test_commits_after_applying_and_a_restart_resumes_there(
    kafka_broker: TansuBroker, topic: str, consumers: Consumers, dsn: str
) -> None:
    produce(kafka_broker, topic, [("a", change("a1", 1)), ("b", change("b1", 1)), ("c", change("c1", 1))])
    first = consumers.open(topic, max_poll_records=1)
    assert drain(first, 1) == Counter({Outcome.applied: 1})
    assert sum(first.lag().values()) == 2
    assert drain(first, 2) == Counter({Outcome.applied: 2})
    assert sum(first.lag().values()) == 0
    assert sum(consumers.committed().values()) == 3  # both partitions, past every applied message
    first.close()

    produce(kafka_broker, topic, [("a", change("a2", 2)), ("d", change("d1", 1))])
    second = consumers.open(topic)
    assert drain(second, 2) == Counter({Outcome.applied: 2})  # the first three are not read again
    assert second.poll_once() == Counter()
    assert sorted(applications(dsn)) == [
        ("a", 1, "u", "a1"), ("a", 2, "u", "a2"), ("b", 1, "u", "b1"), ("c", 1, "u", "c1"),
        ("d", 1, "u", "d1"),
    ]  # fmt: skip
    assert sum(consumers.committed().values()) == 5


def test_a_crash_between_the_database_and_the_offset_commit_applies_nothing_twice(
    kafka_broker: TansuBroker, topic: str, consumers: Consumers, dsn: str
) -> None:
    produce(kafka_broker, topic, [("a", change("a1", 1)), ("b", change("b1", 1)), ("a", change("a2", 2))])
    crashed = consumers.open(topic)
    records: list[ConsumerRecord] = []
    while len(records) < 3:  # the consumer's own steps, stopping before its offset commit
        records += crashed.fetch()
    assert Counter(map(crashed.apply, records)) == Counter({Outcome.applied: 3})
    crashed.close()
    assert consumers.committed() == {}

    restarted = consumers.open(topic)
    assert drain(restarted, 3) == Counter({Outcome.ignored: 3})  # replayed, skipped by the ledger
    assert sorted(applications(dsn)) == [("a", 1, "u", "a1"), ("a", 2, "u", "a2"), ("b", 1, "u", "b1")]
    assert sum(consumers.committed().values()) == 3


def test_bad_messages_become_dead_letters_and_consumption_goes_on(
    kafka_broker: TansuBroker, topic: str, consumers: Consumers, dsn: str
) -> None:
    # One key, so one partition and a known order.
    produce(
        kafka_broker,
        topic,
        [
            ("k", change("good", 1)),
            ("k", b"{not json"),
            ("k", {"name": "no version"}),
            ("k", change("half-applied", 2, explode=True)),
            ("k", change("after the bad ones", 3)),
        ],
    )
    consumer = consumers.open(topic)
    assert drain(consumer, 5) == Counter({Outcome.applied: 2, Outcome.dead_letter: 3})
    assert applications(dsn) == [("k", 1, "u", "good"), ("k", 3, "u", "after the bad ones")]
    letters = dead_letters(dsn)
    assert [(offset, key, value) for offset, key, value, _ in letters] == [
        (1, b"k", b"{not json"),
        (2, b"k", b'{"name": "no version"}'),
        (3, b"k", b'{"name": "half-applied", "version": 2, "explode": true}'),
    ]
    reasons = [reason for *_, reason in letters]
    assert reasons[0].startswith("value is not JSON")
    assert reasons[1].startswith("no version")
    assert reasons[2] == "RuntimeError: handler failed after writing"
    # the failed handler's write was rolled back together with its ledger claim
    assert ledger(dsn) == {"k": (3, False)}
    assert sum(consumers.committed().values()) == 5  # past every message, the dead letters too


def test_older_versions_and_replays_are_ignored_and_deletes_apply_once(
    kafka_broker: TansuBroker, topic: str, consumers: Consumers, dsn: str
) -> None:
    def debezium(op: str, before: Any, after: Any, lsn: int) -> dict[str, Any]:
        return {"op": op, "before": before, "after": after, "source": {"lsn": lsn}}

    produce(
        kafka_broker,
        topic,
        [
            ("k", change("v2", 2)),
            ("k", change("v1 arriving late", 1)),
            ("k", change("v2 again", 2)),
            ("k", debezium("d", change("v2", 2), None, 900)),
            ("k", None),  # Debezium's tombstone after the delete
            ("k", debezium("d", change("v2", 2), None, 900)),
        ],
    )
    consumer = consumers.open(topic)
    assert drain(consumer, 6) == Counter({Outcome.applied: 2, Outcome.ignored: 3, Outcome.tombstone: 1})
    assert applications(dsn) == [("k", 2, "u", "v2"), ("k", 2, "d", "v2")]
    assert ledger(dsn) == {"k": (2, True)}
