"""Request limits: the token bucket, who a client is, and the middleware on an in-process FastAPI app
(no Serve) with the project's error handlers: 429 with Retry-After, 413 on Content-Length and on a
streamed body, the larger cap of the upload path. Time is a settable clock, never a sleep. Last, the
request timeout, which is Serve's: one slow test through a real Serve proxy."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from common.settings import Settings
from serve_app.config import DEFAULT_SERVE_CONFIG, RouterOptions, SearchAppConfig
from serve_app.errors import install_error_handlers
from serve_app.limits import CallerLimits, LimitsOptions, RateLimiter, RequestLimits, client_key
from tests.conftest import free_port

TRUSTED = [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8")]
UPLOAD = "/store/helio/homologacao/check"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        # (seconds since the previous request, ...) with burst 2 and 1 token/s → wait per request
        ((0, 0, 0), (0, 0, 1.0)),
        ((0, 0, 0.25), (0, 0, 0.75)),
        ((0, 0, 1, 0), (0, 0, 0, 1.0)),
        ((0, 0, 10, 0, 0, 0), (0, 0, 0, 0, 1.0, 1.0)),  # an idle client gets its burst back, no more
    ],
)
def test_token_bucket(steps: tuple[float, ...], expected: tuple[float, ...]) -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1, burst=2, max_clients=10, clock=clock)
    waits = []
    for step in steps:
        clock.now += step
        waits.append(limiter.take("a"))
    assert tuple(waits) == pytest.approx(expected)


def test_clients_have_their_own_buckets_and_the_least_recent_are_forgotten() -> None:
    limiter = RateLimiter(rate_per_s=1, burst=1, max_clients=2, clock=Clock())
    assert [limiter.take(c) for c in ("a", "b", "a", "b")] == [0, 0, 1.0, 1.0]
    assert limiter.take("c") == 0  # "a" forgotten: a bounded table, whatever the number of clients
    assert limiter.take("a") == 0


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("203.0.113.7", None, "203.0.113.7"),
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # an untrusted peer cannot choose its key
        ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("127.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the left part is the client's say
        ("127.0.0.1", "198.51.100.1, 10.1.2.3", "198.51.100.1"),  # through two trusted proxies
        ("127.0.0.1", "10.1.2.3", "10.1.2.3"),  # all trusted: the farthest one
        ("127.0.0.1", "garbage", "garbage"),
        ("127.0.0.1", "", "127.0.0.1"),
        ("::1", "198.51.100.1", "::1"),  # not in TRUSTED
        (None, "198.51.100.1", "unknown"),
        ("testclient", "198.51.100.1", "testclient"),
    ],
)
def test_client_key(peer: str | None, forwarded_for: str | None, client: str) -> None:
    assert client_key(peer, forwarded_for, TRUSTED) == client


def limited_app(options: LimitsOptions, clock: Clock, api_keys: dict[str, str] | None = None) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(RequestLimits, options=options, clock=clock, api_keys=api_keys)

    @app.post("/store/echo")
    async def echo(body: dict[str, Any]) -> dict[str, int]:
        return {"keys": len(body)}

    @app.post(UPLOAD)
    async def upload(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.get("/admin/runs")
    async def runs() -> dict[str, list[str]]:
        return {"runs": []}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


OPTIONS = LimitsOptions(rate_per_s=1, burst=2, max_body_bytes=1000, max_upload_bytes=5000)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(clock: Clock) -> Iterator[TestClient]:
    with TestClient(limited_app(OPTIONS, clock), client=("203.0.113.7", 5000)) as client:
        yield client


def assert_json_error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    detail: str = response.json()["detail"]
    assert set(response.json()) == {"detail"} and detail
    return detail


def test_too_many_requests_is_a_json_429_with_retry_after(client: TestClient, clock: Clock) -> None:
    assert [client.post("/store/echo", json={}).status_code for _ in range(2)] == [200, 200]
    response = client.post("/store/echo", json={})
    assert "too many requests" in assert_json_error(response, 429)
    assert response.headers["retry-after"] == "1"
    assert client.get("/health").status_code == 200  # only /store/… is rate limited
    clock.now += 1
    assert client.post("/store/echo", json={}).status_code == 200


def test_clients_behind_a_trusted_proxy_are_told_apart(clock: Clock) -> None:
    app = limited_app(OPTIONS, clock)
    with (
        TestClient(app, client=("127.0.0.1", 5000)) as proxy,
        TestClient(app, client=("203.0.113.9", 1)) as bad,
    ):
        statuses = [
            proxy.post("/store/echo", json={}, headers={"X-Forwarded-For": user}).status_code
            for user in ("198.51.100.1", "198.51.100.2") * 2
        ]
        assert statuses == [200, 200, 200, 200]
        # Not a trusted peer: changing X-Forwarded-For does not give a fresh bucket.
        spoofed = [
            bad.post("/store/echo", json={}, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
            for n in range(10, 13)
        ]
        assert spoofed == [200, 200, 429]


def test_body_over_the_cap_is_a_json_413(client: TestClient) -> None:
    small = {"k": "x" * 900}
    assert client.post("/store/echo", json=small).json() == {"keys": 1}
    detail = assert_json_error(client.post("/store/echo", json={"k": "x" * 1000}), 413)
    assert "1000 bytes" in detail


def test_the_upload_path_takes_more(client: TestClient, clock: Clock) -> None:
    assert client.post(UPLOAD, content=b"x" * 4000).json() == {"bytes": 4000}
    clock.now += 10
    assert_json_error(client.post(UPLOAD, content=b"x" * 5001), 413)


def call(
    app: FastAPI, path: str, chunks: Iterator[bytes], headers: list[tuple[bytes, bytes]]
) -> tuple[int, bytes, int]:
    """One request straight through ASGI, its body sent chunk by chunk without Content-Length (as a
    chunked upload arrives). Returns the status, the body and how many chunks the app read."""
    read = 0
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": next(chunks), "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"transfer-encoding", b"chunked"), *headers],
        "client": ("203.0.113.7", 5000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return status, body, read


def endless(chunk: bytes) -> Iterator[bytes]:
    while True:
        yield chunk


@pytest.mark.parametrize(
    ("path", "content_type", "chunks_read"),
    [
        ("/store/echo", b"application/json", 11),  # 11 × 100 bytes > 1000
        (UPLOAD, b"application/octet-stream", 51),  # 51 × 100 bytes > 5000
    ],
)
def test_an_endless_chunked_body_is_cut_at_the_cap(
    clock: Clock, path: str, content_type: bytes, chunks_read: int
) -> None:
    status, body, read = call(
        limited_app(OPTIONS, clock), path, endless(b"x" * 100), [(b"content-type", content_type)]
    )
    assert (status, read) == (413, chunks_read)
    assert json.loads(body) == {"detail": "Content Too Large"}


STOREFRONT_KEY = "sf-" + "k" * 40
SCRIPTS_KEY = "sc-" + "s" * 40
KEYED = LimitsOptions(
    rate_per_s=1,
    burst=2,
    callers={"storefront": CallerLimits(rate_per_s=1, burst=6, shopper_rate_per_s=1, shopper_burst=2)},
    default_caller=CallerLimits(rate_per_s=1, burst=3),
    admin_rate_per_s=1,
    admin_burst=2,
)


def statuses(client: TestClient, count: int, headers: dict[str, str] | None = None) -> list[int]:
    return [client.post("/store/echo", json={}, headers=headers).status_code for _ in range(count)]


def test_an_application_with_its_key_has_its_own_quota_and_its_shoppers_theirs(clock: Clock) -> None:
    keys = {"storefront": STOREFRONT_KEY, "scripts": SCRIPTS_KEY}
    with TestClient(limited_app(KEYED, clock, keys), client=("198.51.100.20", 1)) as backend:
        storefront = {"X-API-Key": STOREFRONT_KEY}
        # One IP, many shoppers: each shopper has a bucket of 2 inside the storefront's 6.
        assert statuses(backend, 3, {**storefront, "X-Shopper-Id": "ana"}) == [200, 200, 429]
        assert statuses(backend, 2, {**storefront, "X-Shopper-Id": "bia"}) == [200, 200]
        assert statuses(backend, 3, storefront) == [200, 200, 429]  # the application's 6 are spent
        # Another application (the default quota) and anonymous callers from the same IP are apart.
        assert statuses(backend, 4, {"X-API-Key": SCRIPTS_KEY}) == [200, 200, 200, 429]
        assert statuses(backend, 3) == [200, 200, 429]


def test_a_shopper_id_counts_only_with_a_valid_key(clock: Clock) -> None:
    with TestClient(
        limited_app(KEYED, clock, {"storefront": STOREFRONT_KEY}), client=("203.0.113.5", 1)
    ) as c:
        assert statuses(c, 3, {"X-Shopper-Id": "ana"}) + statuses(c, 1, {"X-Shopper-Id": "bia"}) == [
            200, 200, 429, 429
        ]  # fmt: skip


def test_a_wrong_key_is_a_401_and_guessing_is_throttled_per_ip(clock: Clock) -> None:
    with TestClient(
        limited_app(KEYED, clock, {"storefront": STOREFRONT_KEY}), client=("203.0.113.6", 1)
    ) as c:
        wrong = {"X-API-Key": STOREFRONT_KEY[:-1] + "x"}
        first = c.post("/store/echo", json={}, headers=wrong)
        assert "invalid API key" in assert_json_error(first, 401)
        assert statuses(c, 2, wrong) == [401, 429]
        too_long = {"X-API-Key": STOREFRONT_KEY, "X-Shopper-Id": "x" * 129}
        assert "X-Shopper-Id" in assert_json_error(c.post("/store/echo", json={}, headers=too_long), 400)


def test_the_admin_paths_are_rate_limited_per_ip(clock: Clock) -> None:
    with TestClient(limited_app(KEYED, clock), client=("203.0.113.7", 1)) as client:
        assert [client.get("/admin/runs").status_code for _ in range(3)] == [200, 200, 429]
        assert statuses(client, 1) == [200]  # /store/ has its own bucket


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("storefront=short", "at least 32 characters"),
        (f"Storefront={STOREFRONT_KEY}", "lowercase name"),
        (f"storefront={STOREFRONT_KEY},storefront={SCRIPTS_KEY}", "named twice"),
        (STOREFRONT_KEY, "lowercase name"),
    ],
)
def test_malformed_api_keys_are_refused_at_start_without_echoing_the_key(text: str, error: str) -> None:
    with pytest.raises(ValidationError, match=error) as raised:
        Settings(api_keys=SecretStr(text))
    assert STOREFRONT_KEY not in str(raised.value)


def test_api_keys_are_read_by_name() -> None:
    settings = Settings(api_keys=SecretStr(f"storefront={STOREFRONT_KEY}, scripts={SCRIPTS_KEY}"))
    assert settings.caller_keys() == {"storefront": STOREFRONT_KEY, "scripts": SCRIPTS_KEY}
    assert Settings(api_keys=None).caller_keys() == {}


def test_router_options_carry_the_limits() -> None:
    options = RouterOptions.model_validate({"limits": {"rate_per_s": 5, "trusted_proxies": ["10.0.0.0/8"]}})
    assert options.limits.rate_per_s == 5
    assert options.limits.trusted_proxies == [ipaddress.ip_network("10.0.0.0/8")]
    assert RouterOptions().limits == LimitsOptions()
    with pytest.raises(ValidationError):
        RouterOptions.model_validate({"limits": {"rate_per_second": 5}})


@pytest.mark.parametrize("name", ["cpu.yaml", "gpu.yaml"])
def test_serve_configs_time_requests_out_after_the_chat_chain(name: str) -> None:
    path = DEFAULT_SERVE_CONFIG.with_name(name)
    config = SearchAppConfig.from_yaml(path)
    timeout_s = yaml.safe_load(path.read_text(encoding="utf-8"))["http_options"]["request_timeout_s"]
    assert timeout_s == config.router.limits.request_timeout_s > config.chat.timeout_s


@pytest.mark.slow
def test_serve_answers_408_to_a_stalled_body_and_frees_the_replica(ray_session: str) -> None:
    """Through real Serve: a client that announces a body and never sends it gets the proxy's 408 after
    `request_timeout_s`, and the replica (one request at a time) then serves the next request."""
    from ray import serve

    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port, "request_timeout_s": 2})
    ingress = serve.ingress(limited_app(OPTIONS, Clock()))(type("StalledBodyProbe", (), {}))
    serve.run(serve.deployment(ingress, max_ongoing_requests=1).bind(), name="stalled-body", route_prefix="/")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as stalled:
            stalled.sendall(
                f"POST {UPLOAD} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789".encode()
            )
            assert stalled.recv(4096).startswith(b"HTTP/1.1 408 ")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            assert client.post(UPLOAD, content=b"x" * 10).json() == {"bytes": 10}
    finally:
        serve.shutdown()
