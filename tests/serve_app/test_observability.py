"""Request metrics and request ids: the middleware alone (no Ray), then the app in Serve, whose metrics
must reach Ray's Prometheus endpoint."""

from __future__ import annotations

import re
import time
import urllib.request
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

from common.logs import current_request_id
from serve_app import observability
from serve_app.observability import UNMATCHED, install_observability
from tests.serve_app import test_search_api

# The search API's Serve deployment, reused (module-scoped: started once for this module, then shut down).
api = test_search_api.api
search_settings = test_search_api.search_settings
COMPATIBLE = "/store/helio/products/{product_id}/compatible"


@pytest.fixture
def observed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int]]:
    """What the middleware records, captured instead of sent to Ray (no Ray in these fast tests)."""
    calls: list[tuple[str, str, int]] = []
    monkeypatch.setattr(observability, "observe_request", lambda e, m, s, seconds: calls.append((e, m, s)))
    return calls


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()

    @app.get(COMPATIBLE)
    async def compatible(product_id: str) -> dict[str, str | None]:
        if product_id == "missing":
            raise HTTPException(404, "no such product")
        return {"request_id": current_request_id()}

    install_observability(app)
    return TestClient(app)


@pytest.mark.parametrize(
    ("path", "recorded"),
    [
        ("/store/helio/products/p-123/compatible", (COMPATIBLE, "GET", 200)),
        ("/store/helio/products/missing/compatible", (COMPATIBLE, "GET", 404)),
        ("/store/helio/nowhere/p-123", (UNMATCHED, "GET", 404)),
    ],
)
def test_requests_are_recorded_by_route_template(
    client: TestClient, observed: list[tuple[str, str, int]], path: str, recorded: tuple[str, str, int]
) -> None:
    client.get(path)
    assert observed == [recorded]


def test_an_incoming_request_id_is_used_and_answered(client: TestClient, observed: list[Any]) -> None:
    response = client.get("/store/helio/products/p-1/compatible", headers={"X-Request-ID": "abc-123"})
    assert response.json() == {"request_id": "abc-123"}
    assert response.headers.get_list("x-request-id") == ["abc-123"]


@pytest.mark.parametrize("incoming", [None, "bad id\nwith a newline", "x" * 200])
def test_a_missing_or_unsafe_request_id_is_replaced(
    client: TestClient, observed: list[Any], incoming: str | None
) -> None:
    headers = {"X-Request-ID": incoming} if incoming else {}
    response = client.get("/store/helio/products/p-1/compatible", headers=headers)
    (request_id,) = response.headers.get_list("x-request-id")
    assert request_id != incoming and re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert response.json() == {"request_id": request_id}


LATENCY_COUNT = "ray_helio_request_latency_s_count{"  # as Ray exports `helio_request_latency_s`


def metrics_text() -> str:
    import ray

    (node,) = [node for node in ray.nodes() if node["Alive"]]
    with urllib.request.urlopen(f"http://127.0.0.1:{node['MetricsExportPort']}/metrics", timeout=5) as reply:
        text: str = reply.read().decode()
    return text


@pytest.mark.slow
def test_request_latency_reaches_the_ray_metrics_endpoint(api: httpx.Client) -> None:
    response = api.get(
        "/store/helio/search", params={"q": "inversor 5 kW"}, headers={"X-Request-ID": "obs-1"}
    )
    assert response.status_code == 200
    assert response.headers.get_list("x-request-id") == ["obs-1"]  # Serve's, not doubled by ours
    assert api.get("/store/helio/products/no-such-id/compatible").status_code in (404, 503)
    expected = {
        ('endpoint="/store/helio/search"', 'method="GET"', 'status="200"'),
        (f'endpoint="{COMPATIBLE}"', 'method="GET"'),
    }
    # Ray's metrics agent exports on its report interval (seconds): poll, bounded.
    deadline = time.monotonic() + 60
    while True:
        counts = [line for line in metrics_text().splitlines() if line.startswith(LATENCY_COUNT)]
        missing = {tags for tags in expected if not any(all(tag in line for tag in tags) for line in counts)}
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not missing, counts
    assert not any("no-such-id" in line for line in counts)  # templates, never raw paths
