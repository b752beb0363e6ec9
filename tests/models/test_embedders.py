"""Embedders: the packaged MiniLM for real, and the OpenAI client against a local stand-in."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import numpy as np
import pytest

from models.embedders import OPENAI_SMALL, Embedder, OpenAIEmbedder, load_embedder


def test_minilm_vectors_are_normalised_and_meaningful(minilm: Embedder) -> None:
    vectors = minilm.embed(
        ["inversor solar 5 kW", "inversor fotovoltaico de 5 kW", "cabo solar vermelho 6 mm"]
    )
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


class FakeOpenAI(BaseHTTPRequestHandler):
    """Stands in for OpenAI's embeddings endpoint, which cannot run here: deterministic vectors,
    answered out of order (the real API may), and a 500 for input "boom"."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeOpenAI.requests.append({"auth": self.headers["Authorization"], **body})
        if "boom" in body["input"]:
            self.send_response(500)
            self.end_headers()
            return
        data = [
            {"index": i, "embedding": [float(len(text)), 1.0, *([0.0] * (OPENAI_SMALL.dim - 2))]}
            for i, text in enumerate(body["input"])
        ]
        payload = json.dumps({"data": list(reversed(data))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_openai() -> Iterator[str]:
    FakeOpenAI.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_openai_embedder_batches_keeps_order_and_normalises(fake_openai: str) -> None:
    embedder = OpenAIEmbedder(OPENAI_SMALL.model_copy(update={"batch_size": 2}), "sk-test", fake_openai)
    vectors = embedder.embed(["a", "bbb", "cc"])
    assert embedder.name == "openai-3-small"
    assert vectors.shape == (3, OPENAI_SMALL.dim)
    expected = np.array([[1, 1], [3, 1], [2, 1]], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(vectors[:, :2], expected)
    assert [len(r["input"]) for r in FakeOpenAI.requests] == [2, 1]
    assert {r["auth"] for r in FakeOpenAI.requests} == {"Bearer sk-test"}
    assert {r["model"] for r in FakeOpenAI.requests} == {"text-embedding-3-small"}


def test_openai_errors_surface(fake_openai: str) -> None:
    embedder = OpenAIEmbedder(OPENAI_SMALL, "sk-test", fake_openai)
    with pytest.raises(Exception, match="500"):
        embedder.embed(["boom"])


def test_openai_embedder_needs_a_key() -> None:
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        load_embedder(OPENAI_SMALL, None)
