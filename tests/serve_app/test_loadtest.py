"""`scripts.loadtest` for a few seconds against the project's API: the in-process router app
(`tests.serve_app.local_app`: real search, recommender and extractive assistant) served by uvicorn in a
thread on 127.0.0.1. The report must name the three endpoints, count requests and show no error."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from models.embedders import SentenceTransformerEmbedder
from scripts.loadtest import loopback_url, render, run_loadtest, seconds
from serve_app.recommend import KitRecommender
from tests.conftest import free_port
from tests.serve_app.local_app import indexed_store, local_api


@pytest.fixture(scope="module")
def api_url(
    tmp_path_factory: pytest.TempPathFactory, minilm: SentenceTransformerEmbedder, recommender: KitRecommender
) -> Iterator[str]:
    store = indexed_store(tmp_path_factory.mktemp("loadtest-index"), minilm)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(local_api(store, minilm, recommender), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    store.close()


@pytest.mark.slow
def test_a_short_run_reports_every_endpoint_without_errors(api_url: str) -> None:
    report = run_loadtest(api_url, duration_s=5, users=3, spawn_rate=3)
    assert set(report["endpoints"]) == {"search", "recommend", "ask"}
    assert report["total"]["requests"] == sum(e["requests"] for e in report["endpoints"].values()) > 0
    assert report["total"]["failures"] == 0 and report["total"]["error_rate"] == 0
    for figures in report["endpoints"].values():
        assert set(figures) == {
            "requests",
            "failures",
            "throughput_rps",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "error_rate",
        }
        assert figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    assert render(report).splitlines()[-1].startswith("total")


@pytest.mark.parametrize(("text", "expected"), [("60s", 60), ("2m", 120), ("90", 90)])
def test_durations(text: str, expected: int) -> None:
    assert seconds(text) == expected


@pytest.mark.parametrize("url", ["http://10.0.0.5:8000", "https://api.example.com", "http://0.0.0.0:8000"])
def test_only_loopback_is_a_target(url: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"only targets 127\.0\.0\.1"):
        loopback_url(url)
