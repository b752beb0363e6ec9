"""ERP change streams: the Kafka CDC consumers of prices, orders and homologação, in one long-lived actor.

    python -m ray_jobs.change_streams [start]   # the detached actor (if KAFKA_BOOTSTRAP_SERVERS is set)
    python -m ray_jobs.change_streams status    # messages applied/ignored/dead-lettered, lag per partition
    python -m ray_jobs.change_streams stop

One consumer-group member reads the three topics (`KAFKA_TOPIC_PRICES|ORDERS|HOMOLOGACAO`) and applies
each message through `common.erp_store` in its own transaction (`common.change_stream`). It runs in a
named, detached Ray actor that Ray restarts if its process dies; if the broker or the database goes
away, the loop drops its consumer and reconnects after a pause, resuming from the committed offsets.
Without KAFKA_BOOTSTRAP_SERVERS nothing starts: the ERP sync jobs poll the ERP's API instead.
Per-partition lag goes to the `helio_kafka_consumer_lag` gauge after every poll.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
import ray
from kafka import TopicPartition
from pydantic import BaseModel, Field

from common import erp_store, metrics, postgres
from common.change_stream import ChangeStreamConfig, ChangeStreamConsumer, Handler, Outcome
from common.embedded import (
    connect_to_cluster,
    long_lived_actor,
    named_actor,
    stop_named_actor,
)
from common.logs import configure_logging
from common.resources import Resources
from common.settings import Settings, get_settings
from erp.change_events import ChangeEvent
from erp.records import ErpOrder, HomologacaoUpdate, PriceEntry
from ray_jobs.background import BackgroundLoop, stop_or_show

ACTOR_NAME = "erp-change-streams"
RECONNECT_DELAY_S = 5.0
"""Pause before a new consumer after the broker or the database failed."""

log = logging.getLogger(__name__)
Record = TypeVar("Record", bound=BaseModel)


def erp_handlers(settings: Settings) -> dict[str, Handler]:
    """Topic → handler: validate the event's record, apply it through `common.erp_store`. An invalid
    record raises pydantic's ValidationError, which the consumer keeps as the dead letter's reason."""
    return {
        settings.kafka_topic_prices: _handler(PriceEntry, erp_store.apply_price),
        settings.kafka_topic_orders: _handler(ErpOrder, erp_store.apply_order),
        settings.kafka_topic_homologacao: _handler(HomologacaoUpdate, erp_store.apply_homologacao),
    }


def _handler(
    model: type[Record], apply: Callable[[psycopg.Connection[Any], Record], erp_store.Applied]
) -> Handler:
    def handle(conn: psycopg.Connection[Any], event: ChangeEvent) -> None:
        if event.is_delete:
            # erp_store has no delete: a deleted ERP row is kept for a person to look at, not guessed at.
            raise ValueError(f"deletes are not applied to {model.__name__}: the ERP never deletes them")
        applied = apply(conn, model.model_validate(event.after))
        log.debug("%s %s v%d: %s", event.topic, event.key, event.version, applied)

    return handle


class ChangeStreamsStatus(BaseModel):
    topics: list[str]
    running: bool = Field(description="Whether the consumer loop is alive.")
    counts: dict[str, int] = Field(description="Messages per outcome since the actor started.")
    lag: dict[str, int] = Field(description='Messages behind the end offset, per "topic[partition]".')
    last_error: str | None = Field(description="The latest broker/database failure, if any.")


class ChangeStreamsActor(BackgroundLoop):
    """The consumer loop; its batch in hand is committed, and the group left, when it stops."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("change-streams", RECONNECT_DELAY_S)
        self._config = ChangeStreamConfig.from_settings(settings)
        self._dsn = Resources(settings).dsn
        with postgres.connect(self._dsn) as conn:
            postgres.migrate(conn, erp_store.SCHEMA)
        self._handlers = erp_handlers(settings)
        self._counts: Counter[Outcome] = Counter()
        self._lag: dict[str, int] = {}
        self._start_loop()

    def status(self) -> ChangeStreamsStatus:
        with self._lock:
            return ChangeStreamsStatus(
                topics=sorted(self._handlers),
                running=self._running,
                counts={outcome.value: n for outcome, n in self._counts.items()},
                lag=dict(self._lag),
                last_error=self._last_error,
            )

    def _serve(self) -> None:
        with ChangeStreamConsumer(self._config, dsn=self._dsn, handlers=self._handlers) as consumer:
            while not self._stopping.is_set():
                self._record(consumer.poll_once(), consumer.lag())

    def _record(self, outcomes: Counter[Outcome], lag: dict[TopicPartition, int]) -> None:
        for tp, behind in lag.items():
            metrics.set_kafka_lag(tp.topic, tp.partition, behind)
        with self._lock:
            self._counts.update(outcomes)
            self._lag = {f"{tp.topic}[{tp.partition}]": behind for tp, behind in sorted(lag.items())}


def start(settings: Settings) -> Any | None:
    """The consumers' actor (created if it does not run yet); None, and nothing started, when
    KAFKA_BOOTSTRAP_SERVERS is unset."""
    if not settings.kafka_bootstrap_servers:
        log.info("KAFKA_BOOTSTRAP_SERVERS is not set: the ERP change-stream consumers are not started")
        return None
    handle: Any = long_lived_actor(ChangeStreamsActor, ACTOR_NAME).remote(
        settings
    )  # Any: Ray's stubs do not know the actor's methods
    ray.get(handle.status.remote())  # surfaces a failed start (no database, bad settings) here
    return handle


def running(settings: Settings) -> Any | None:
    """The consumers' actor, or None (Ray must be connected)."""
    return named_actor(ACTOR_NAME)


def stop(settings: Settings, timeout_s: float = 30.0) -> bool:
    """Stops the actor for good, after its loop commits and leaves the group; False if none ran."""
    return stop_named_actor(ACTOR_NAME, timeout_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ray_jobs.change_streams",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", nargs="?", default="start", choices=("start", "status", "stop"))
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings=settings)
    try:
        connect_to_cluster(settings)
    except ConnectionError as error:
        print(error)
        return 2
    if args.command == "start":
        handle = start(settings)
        if handle is None:
            print("KAFKA_BOOTSTRAP_SERVERS is not set: nothing to consume (the ERP sync jobs poll instead)")
            return 0
        print(f"{ACTOR_NAME} running: {ray.get(handle.status.remote()).model_dump_json()}")
        return 0
    return stop_or_show(ACTOR_NAME, args.command)


if __name__ == "__main__":
    sys.exit(main())
