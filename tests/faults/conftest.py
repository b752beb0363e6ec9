"""The search app as the fault tests run it: real Ray Serve with two router replicas, the packaged MiniLM,
the small test catalog in Qdrant Edge behind its owner actor; and a steady load of searches against it.

One app serves the whole package (starting Serve costs tens of seconds here); it is shut down, and the
index owner stopped, when the package's last test ends."""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from ray import serve

from common.settings import Settings
from common.vectors.owner import RemoteVectorStore, stop_vector_index, vector_index
from serve_app.app import build_search_app
from serve_app.config import SearchAppConfig
from tests.conftest import free_port
from tests.serve_app.catalog_data import catalog_rows, index_catalog

APP_NAME = "helio-faults"
ROUTER = "HelioRouter"
ROUTER_REPLICAS = 2
FAULTS_CONFIG = {
    # Small reservations: the suite's local Ray has 2 CPUs, shared with the index actor and the driver.
    "router": {
        "num_replicas": ROUTER_REPLICAS,
        "ray_actor_options": {"num_cpus": 0.25},
        # The load comes from one client; the per-client rate limit is not what these tests measure.
        "limits": {"rate_per_s": 1000, "burst": 1000},
        # A replica starting here starves the 2 shared cores for seconds, and the 2 s defaults then
        # answer 503 for a slow, not a failed, dependency; a restarted index owner also needs longer.
        "embed_timeout_s": 10,
        "index_timeout_s": 10,
    },
    "query_embedder": {"num_replicas": 1, "ray_actor_options": {"num_cpus": 0.5}},
    "chat": {"engines": []},  # search only: no ChatModel deployment to start
}
QUERIES = (
    "inversor 5 kW",
    "painel 550W",
    "bateria de lítio",
    "CS6W-550MS",
    "microinversor",
    "inversor híbrido",
)


@dataclass(frozen=True)
class FaultsApi:
    client: httpx.Client
    base_url: str
    settings: Settings
    dashboard_url: str  # for Ray's state API: other Ray instances may run on this machine


@pytest.fixture(scope="package")
def faults_api(
    ray_session: str, settings: Settings, minilm: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultsApi]:
    search_settings = settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("faults_search")})
    stop_vector_index()  # another module's index may serve another folder
    index_catalog(RemoteVectorStore(vector_index(search_settings)), minilm, catalog_rows())
    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(
        build_search_app(SearchAppConfig.model_validate(FAULTS_CONFIG), search_settings),
        name=APP_NAME,
        route_prefix="/",
    )
    base_url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield FaultsApi(client, base_url, search_settings, ray_session)
    serve.shutdown()
    stop_vector_index()


def search_results(api: FaultsApi, query: str) -> list[dict[str, Any]]:
    response = api.client.get("/store/helio/search", params={"q": query, "limit": 10})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


@dataclass(frozen=True)
class Outcome:
    sent_at: float  # time.monotonic() when the request first left
    done_at: float  # ... and when its first answer came back
    first_status: int  # the HTTP status of the first attempt; 0 when no response came back at all
    status: int  # the status the client ends with, after its retry
    latency_ms: float  # of the first attempt

    @property
    def failed_first(self) -> bool:
        return self.first_status != 200

    @property
    def lost(self) -> bool:
        return self.status != 200


@dataclass(frozen=True)
class Figures:
    requests: int
    errors: int  # first attempts that failed
    lost: int  # requests that failed after the client's retry too
    p50_ms: float
    p99_ms: float

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def __str__(self) -> str:
        return (
            f"{self.requests:5d} requests {self.errors:3d} errors ({self.error_rate:.2%}) {self.lost} lost "
            f"p50 {self.p50_ms:7.1f} ms p99 {self.p99_ms:7.1f} ms"
        )


def figures(outcomes: Sequence[Outcome]) -> Figures:
    latencies = sorted(o.latency_ms for o in outcomes)
    cuts = (
        statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    )
    return Figures(
        requests=len(outcomes),
        errors=sum(o.failed_first for o in outcomes),
        lost=sum(o.lost for o in outcomes),
        p50_ms=cuts[49] if cuts else 0.0,
        p99_ms=cuts[98] if cuts else 0.0,
    )


@dataclass
class SteadyLoad:
    """Searches sent at a fixed rate from a thread pool, whatever the answers take, until the block ends;
    every request's outcome is kept. A slow or dead replica so shows up as errors and latency, not as
    fewer requests. A search is idempotent, so the client retries a 5xx or dropped answer once, as a
    storefront would (Serve does not replay a request that a dying replica had already accepted)."""

    base_url: str
    rate_per_s: float = 20.0
    workers: int = 16
    outcomes: list[Outcome] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # what each failed attempt said
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> SteadyLoad:
        self._client = httpx.Client(
            base_url=self.base_url, timeout=10, limits=httpx.Limits(max_connections=self.workers)
        )
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="load")
        self._pacer = threading.Thread(target=self._pace, daemon=True)
        self._pacer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._pacer.join()
        self._pool.shutdown(wait=True)  # every request sent gets its outcome
        self._client.close()

    def between(self, start: float, end: float) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if start <= o.sent_at < end]

    def _pace(self) -> None:
        started = time.monotonic()
        for number in itertools.count():
            # Pacing, not an assertion: the next request leaves on the schedule, answered or not.
            if self._stop.wait(max(0.0, started + number / self.rate_per_s - time.monotonic())):
                return
            self._pool.submit(self._send, QUERIES[number % len(QUERIES)])

    def _get(self, query: str) -> int:
        try:
            response = self._client.get("/store/helio/search", params={"q": query, "limit": 10})
        except httpx.HTTPError as error:
            self.failures.append(repr(error))
            return 0
        if response.status_code != 200:
            self.failures.append(f"{response.status_code} {response.text[:200]}")
        return response.status_code

    def _send(self, query: str) -> None:
        sent_at = time.monotonic()
        first = self._get(query)
        done_at = time.monotonic()
        final = self._get(query) if first == 0 or first >= 500 else first
        outcome = Outcome(sent_at, done_at, first, final, (done_at - sent_at) * 1000)
        with self._lock:
            self.outcomes.append(outcome)
