"""Session-wide fixtures: one Postgres, one Ray, one embedding model per test session."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from common.embedded import ensure_runtime_dir
from common.settings import Settings

ensure_runtime_dir()  # pgserver's lock folder, here as in every process the platform starts

if TYPE_CHECKING:
    import psycopg

    from catalog.merge import MergedCatalog
    from kernel.schemas import Offer, Product
    from models.embedders import SentenceTransformerEmbedder
    from services.recommend import KitRecommender
    from tests.erp_simulator import ErpSimulator
    from tests.kafka_broker import TansuBroker


TODAY = date(2026, 11, 24)  # the sample tariffs in force on this day
ERP_TOKEN = "erp-test-token"  # the bearer token the ERP simulator of the session expects
# A test using one of these, directly or through another fixture, starts a service or loads a model: it
# is marked `slow`, so `make test-fast` (-m "not slow") runs unit tests only. Under it (UNIT_TESTS_ONLY=1)
# a test that starts one some other way fails, saying so (`_unit_tests_only`).
SERVICE_FIXTURES = frozenset(
    {"postgres_server", "ray_session", "minilm", "smollm2", "s3_endpoint", "kafka_broker", "simulator_server"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def _unit_tests_only() -> Iterator[None]:
    """Under `make test-fast` a unit test that starts Ray or Postgres or loads llama.cpp's weights fails at
    once, naming what it started, instead of quietly making the edit-test loop slow."""
    if not os.environ.get("UNIT_TESTS_ONLY"):
        yield
        return
    import llama_cpp
    import pgserver
    import ray

    def refuse(what: str) -> Any:
        raise RuntimeError(f"make test-fast runs unit tests only; this one starts {what}: mark it slow")

    load_llama = llama_cpp.Llama.__init__

    def vocabulary_only(self: Any, *args: Any, **kwargs: Any) -> None:
        # The tokenizer and chat template alone load in milliseconds; weights do not.
        if not kwargs.get("vocab_only"):
            refuse("llama.cpp")
        load_llama(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ray, "init", lambda *args, **kwargs: refuse("Ray"))
        patch.setattr(pgserver, "get_server", lambda *args, **kwargs: refuse("Postgres"))
        patch.setattr(llama_cpp.Llama, "__init__", vocabulary_only)
        yield


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def postgres_server(data_dir: Path) -> Iterator[str]:
    """A real PostgreSQL 16 (pgserver) in a temp dir, stopped at the end of the session."""
    from common.embedded import import_pgserver

    server = import_pgserver().get_server(data_dir / "postgres", cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="session")
def settings(data_dir: Path, postgres_server: str) -> Settings:
    return Settings(data_dir=data_dir, database_url=postgres_server, qdrant_url=None)


@pytest.fixture(scope="session")
def ray_session(settings: Settings) -> Iterator[str]:
    """One local Ray for the suite (2 CPUs here), with the dashboard so jobs can be submitted.
    Yields the dashboard's URL, the address `ray job submit` takes."""
    import ray

    from common.embedded import init_ray

    port = free_port()
    init_ray(settings, include_dashboard=True, dashboard_host="127.0.0.1", dashboard_port=port)
    yield f"http://127.0.0.1:{port}"
    ray.shutdown()


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> MergedCatalog:
    """A small generated catalog (300 products), merged in-process as the ETL would."""
    from samples.feeds.merged import merged_sample

    return merged_sample(tmp_path_factory.mktemp("recommend_feeds"), seed=7, products=300)


@pytest.fixture(scope="session")
def catalog(sample: MergedCatalog) -> tuple[list[Product], list[Offer]]:
    return list(sample.products.values()), list(sample.offers.values())


@pytest.fixture(scope="session")
def recommender(catalog: tuple[list[Product], list[Offer]]) -> KitRecommender:
    from services.recommend import KitRecommender

    recommender = KitRecommender(load_catalog=lambda: catalog, max_options=5, today=lambda: TODAY)
    assert recommender.refresh()
    return recommender


@pytest.fixture(scope="session")
def minilm() -> SentenceTransformerEmbedder:
    """The packaged all-MiniLM-L6-v2, loaded once."""
    from models.embedders import EmbedderConfig, SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(EmbedderConfig())


def store_catalog(
    conn: psycopg.Connection[Any],
    products: Iterable[tuple[Product, str]],
    offers: Iterable[tuple[Offer, str, str]],
) -> None:
    """Products (with their row hash) and offers (with their source file and row hash) written the way the
    catalog ETL writes them: staged, then applied in one transaction."""
    from common.catalog_store import catalog_load

    with catalog_load(conn) as load:
        load.add_products(products)
        load.add_offers(offers)
        load.apply()


def new_database(settings: Settings) -> str:
    """The DSN of a new, empty database on the session's Postgres."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return settings.database_url.replace("/postgres?", f"/{name}?", 1)


@pytest.fixture
def fresh_settings(settings: Settings, tmp_path: Path) -> Settings:
    """Settings pointing at a new, empty database and vector folder, so tests don't see each other's data."""
    return settings.model_copy(update={"database_url": new_database(settings), "data_dir": tmp_path / "data"})


# Ports Ray's own components take by default (GCS, Serve, dashboard, client server, the dashboard
# agent): the OS may hand one out as free before Ray starts, and Ray then refuses to start.
RAY_DEFAULT_PORTS = frozenset({6379, 8000, 8265, 10001, 52365, 52366})


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str) -> None:
    """Poll `condition()` until it is true; fail the test naming `what` after `timeout_s`."""
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:.0f} s"
        time.sleep(0.2)


def free_port() -> int:
    import socket

    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in RAY_DEFAULT_PORTS:
            return port


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 (a real HTTP S3 API), for the s3:// paths."""
    import subprocess
    import sys
    import time

    import httpx

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def fake_openai() -> Iterator[str]:
    """Base URL of a local stand-in for OpenAI's embeddings API (the real service cannot run here)."""
    from tests.openai_stand_in import running_fake_openai

    with running_fake_openai() as url:
        yield url


@dataclass(frozen=True)
class S3:
    """moto's S3 server, with the client and the settings that reach it."""

    endpoint: str

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        )

    def settings(self, settings: Settings) -> Settings:
        from pydantic import SecretStr

        return settings.model_copy(
            update={
                "s3_endpoint_url": self.endpoint,
                "aws_access_key_id": "test",
                "aws_secret_access_key": SecretStr("test"),
            }
        )


@pytest.fixture(scope="session")
def s3(s3_endpoint: str) -> S3:
    return S3(s3_endpoint)


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    """The tansu Kafka-protocol broker on 127.0.0.1, for the session."""
    from tests.kafka_broker import TansuBroker

    broker = TansuBroker(tmp_path_factory.mktemp("tansu") / "tansu.log")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[tuple[str, ErpSimulator]]:
    """The ERP simulator served by uvicorn on 127.0.0.1 in a thread, for the whole session."""
    import uvicorn

    from tests.erp_simulator import ErpSimulator, create_app

    simulator = ErpSimulator(token=ERP_TOKEN)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(simulator), host="127.0.0.1", port=port, log_level="warning")
    )
    import threading

    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    ready = threading.Event()
    for _ in range(400):  # poll the server's own flag (up to 20 s), not a fixed sleep
        if server.started or not thread.is_alive():
            break
        ready.wait(0.05)
    assert server.started, "the ERP simulator did not start"
    yield f"http://127.0.0.1:{port}", simulator
    server.should_exit = True
    thread.join(timeout=10)
