"""A local stand-in for OpenAI's chat completions service, which cannot run here.

It speaks the same wire format as OpenAI, Ollama and vLLM's OpenAI server: POST
/v1/chat/completions answered as JSON, or as server-sent events (`data: {chunk}` lines, then
`data: [DONE]`) when the body asks for `"stream": true`. Each answer echoes the last user message
(or says what a test scripted with `reply`), one "token" per word, cut at `max_tokens`. It records
every request (path, headers, body), so tests can assert what left the machine, and can be scripted
to fail the next requests: an HTTP status (500, 429 with Retry-After, 401...), a hang past the
client's timeout, or a stream that breaks after its first token.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWER_PREFIX = "Olá! Sou o Hélio. Você perguntou:"


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass(frozen=True)
class _Failure:
    status: int = 0  # an HTTP error status; 0 answers normally (after `hang_s`)
    retry_after: str | None = None
    message: str = "scripted failure"
    hang_s: float = 0.0
    break_stream: bool = False


@dataclass
class ChatStandIn:
    """The running stand-in: its base URL (up to /v1), the requests it got, and its script."""

    base_url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    script: deque[_Failure] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    replies: deque[str] = field(default_factory=deque)

    def reply(self, text: str) -> None:
        """Answer the next request with `text` (word by word) instead of the echo."""
        self.replies.append(text)

    def fail(
        self, status: int, times: int = 1, retry_after: str | None = None, message: str = "scripted failure"
    ) -> None:
        """Answer the next `times` requests with this HTTP status (and Retry-After header)."""
        self.script.extend([_Failure(status, retry_after, message)] * times)

    def hang(self, seconds: float, times: int = 1) -> None:
        """Wait `seconds` before answering the next `times` requests."""
        self.script.extend([_Failure(hang_s=seconds)] * times)

    def break_stream(self) -> None:
        """Drop the connection of the next streamed answer after its first token."""
        self.script.append(_Failure(break_stream=True))

    def next_failure(self) -> _Failure:
        with self.lock:
            return self.script.popleft() if self.script else _Failure()

    def answer_words(self, body: dict[str, Any]) -> tuple[list[str], str]:
        """The answer's tokens (words, each but the last with its trailing space) and finish reason."""
        with self.lock:
            scripted = self.replies.popleft() if self.replies else None
        question = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
        words = (scripted or f"{ANSWER_PREFIX} {question}").split(" ")
        tokens = [word + " " for word in words[:-1]] + [words[-1]]
        limit = body.get("max_tokens")
        if limit is not None and limit < len(tokens):
            return tokens[:limit], "length"
        return tokens, "stop"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        stand_in = self.server.stand_in
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with stand_in.lock:
            stand_in.requests.append(Recorded(self.path, dict(self.headers.items()), body))
        if not self.path.endswith("/v1/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        failure = stand_in.next_failure()
        if failure.hang_s and stand_in.stopping.wait(failure.hang_s):
            return
        if failure.status:
            headers = {"Retry-After": failure.retry_after} if failure.retry_after is not None else {}
            error = {"error": {"message": failure.message, "type": "scripted", "code": failure.status}}
            self._json(failure.status, error, headers)
            return
        tokens, finish_reason = stand_in.answer_words(body)
        try:
            if body.get("stream"):
                self._stream(body, tokens, finish_reason, failure.break_stream)
            else:
                self._complete(body, tokens, finish_reason)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): nothing to answer

    def _complete(self, body: dict[str, Any], tokens: list[str], finish_reason: str) -> None:
        prompt_tokens = sum(len(m["content"].split()) for m in body["messages"])
        self._json(
            200,
            {
                "id": "chatcmpl-stand-in",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(tokens)},
                        "finish_reason": finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(tokens),
                    "total_tokens": prompt_tokens + len(tokens),
                },
            },
        )

    def _stream(self, body: dict[str, Any], tokens: list[str], finish_reason: str, breaks: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()  # HTTP/1.0: the body ends when the connection closes

        def event(delta: dict[str, str], finish: str | None = None) -> None:
            chunk = {
                "id": "chatcmpl-stand-in",
                "object": "chat.completion.chunk",
                "model": body["model"],
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        event({"role": "assistant"})
        for index, token in enumerate(tokens):
            event({"content": token})
            if breaks and index == 0:
                return
        event({}, finish_reason)
        self.wfile.write(b": the stream ends\n\ndata: [DONE]\n\n")

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, stand_in: ChatStandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stand_in = stand_in


@contextmanager
def running_chat_stand_in() -> Iterator[ChatStandIn]:
    stand_in = ChatStandIn()
    server = _Server(stand_in)
    stand_in.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        stand_in.stopping.set()  # release hanging handlers
        server.shutdown()
        server.server_close()
