"""`scripts.loadtest` for a few seconds against the project's API: the in-process router app
(`tests.serve_app.local_app`: real search, recommender and extractive assistant) served by uvicorn in a
thread on 127.0.0.1. The report must name the three endpoints, count requests and show no error. Which
task a simulated customer runs is drawn at random (search 6 : recommend 2 : ask 1), so a short run may
not ask at all: the report then lists `ask` with no requests and no percentiles."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from models.embedders import SentenceTransformerEmbedder
from scripts.loadtest import ENDPOINTS, loopback_url, render, run_loadtest, seconds
from services.recommend import KitRecommender
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
    report = run_loadtest(api_url, duration_s=6, users=4, spawn_rate=4)
    assert list(report["endpoints"]) == list(ENDPOINTS)
    assert report["endpoints"]["search"]["requests"] > 0
    assert report["total"]["requests"] == sum(e["requests"] for e in report["endpoints"].values())
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
        if figures["requests"]:
            assert figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
        else:
            assert figures["p50_ms"] is None and figures["throughput_rps"] == 0
    assert render(report).splitlines()[-1].startswith("total")


def test_an_endpoint_without_requests_renders_dashes() -> None:
    measured = {"requests": 4, "failures": 1, "throughput_rps": 0.8, "p50_ms": 40.0, "p95_ms": 90.0,
                "p99_ms": 95.0, "error_rate": 0.25}  # fmt: skip
    idle = (
        measured
        | {"requests": 0, "failures": 0, "throughput_rps": 0.0, "error_rate": 0.0}
        | dict.fromkeys(["p50_ms", "p95_ms", "p99_ms"])
    )
    lines = render({"endpoints": {"search": measured, "ask": idle}, "total": measured}).splitlines()
    assert lines[1].split() == ["search", "4", "0.8", "40", "90", "95", "25.0%"]
    assert lines[2].split() == ["ask", "0", "0.0", "-", "-", "-", "0.0%"]


@pytest.mark.parametrize(("text", "expected"), [("60s", 60), ("2m", 120), ("90", 90)])
def test_durations(text: str, expected: int) -> None:
    assert seconds(text) == expected


@pytest.mark.parametrize("url", ["http://10.0.0.5:8000", "https://api.example.com", "http://0.0.0.0:8000"])
def test_only_loopback_is_a_target(url: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"only targets 127\.0\.0\.1"):
        loopback_url(url)
