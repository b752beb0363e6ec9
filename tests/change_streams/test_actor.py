"""The change-stream actor on Ray: started only when KAFKA_BOOTSTRAP_SERVERS is set, consuming the ERP
topics into Postgres, stopped for good by `stop`."""

from __future__ import annotations

import logging
import time

import psycopg
import pytest
import ray

from common.settings import Settings
from ray_jobs import change_streams
from tests.change_streams.conftest import produce
from tests.kafka_broker import TansuBroker

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_session")]


def test_nothing_starts_without_bootstrap_servers(
    fresh_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="ray_jobs.change_streams"):
        assert (
            change_streams.start(fresh_settings.model_copy(update={"kafka_bootstrap_servers": None})) is None
        )
    assert "KAFKA_BOOTSTRAP_SERVERS is not set" in caplog.text
    assert change_streams.running(fresh_settings) is None


def test_the_actor_consumes_until_stopped(kafka_broker: TansuBroker, erp_topics: Settings, dsn: str) -> None:
    update = {
        "order_id": "o-9",
        "status": "approved",
        "updated_at": "2026-11-25T03:00:00+00:00",
        "version": 4,
    }
    produce(kafka_broker, erp_topics.kafka_topic_homologacao, [("o-9", update)])
    handle = change_streams.start(erp_topics)
    assert handle is not None
    try:
        deadline = time.monotonic() + 120
        while (status := ray.get(handle.status.remote())).counts.get("applied", 0) < 1:
            assert status.running and time.monotonic() < deadline, status
            time.sleep(0.5)
        topics = (
            erp_topics.kafka_topic_prices,
            erp_topics.kafka_topic_orders,
            erp_topics.kafka_topic_homologacao,
        )
        assert status.lag == {f"{topic}[0]": 0 for topic in topics}  # one partition each, all caught up
        with psycopg.connect(dsn) as conn:
            row = conn.execute(
                "SELECT status, version FROM homologacao_status WHERE order_id = 'o-9'"
            ).fetchone()
        assert row == ("approved", 4)
    finally:
        assert change_streams.stop(erp_topics)
    assert change_streams.running(erp_topics) is None
