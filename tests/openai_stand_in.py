"""A local stand-in for OpenAI's embeddings endpoint, which cannot run here."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from models.embedders import OPENAI_SMALL


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


@contextmanager
def running_fake_openai() -> Iterator[str]:
    FakeOpenAI.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
