"""Request limits of the HTTP API: a per-client rate on the public `/store/...` endpoints and a body size
cap on every request, both answered as `{"detail": ...}` JSON (429 with `Retry-After`, 413).

The rate is a token bucket per client IP, held in the router replica's memory: N router replicas let a
client through N times the configured rate. The client is the TCP peer, or, when the peer is a trusted
proxy, the rightmost `X-Forwarded-For` entry that is not itself a trusted proxy (entries further left are
whatever the client chose to send).

The body cap is Starlette's `RequestBodyLimitMiddleware` (it counts streamed chunks, so a chunked upload
without `Content-Length` is cut too), with the larger upload cap on the upload paths; a `Content-Length`
over the cap is refused here before the app reads a byte. Slow clients are bounded by Serve's
`http_options.request_timeout_s` (the proxy answers 408 and cancels the replica's request), not here:
`request_timeout_s` below is handed to it.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork
from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from serve_app.errors import ErrorBody

MB = 1024 * 1024


class LimitsOptions(BaseModel):
    """Rate and size limits of the router's HTTP API (per replica)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_per_s: float = Field(
        default=10.0, gt=0, description="Requests per second a client may make to /store/… (sustained)."
    )
    burst: int = Field(default=40, ge=1, description="Requests a client may make at once before the rate.")
    rate_limited_prefix: str = Field(default="/store/", description="Paths the per-client rate applies to.")
    trusted_proxies: list[IPvAnyNetwork] = Field(
        # Loopback, as uvicorn's `forwarded_allow_ips` default: a reverse proxy on the same host.
        default_factory=lambda: [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128")],
        description="Peers whose X-Forwarded-For names the client (a load balancer's addresses).",
    )
    max_clients: int = Field(
        default=100_000, ge=1, description="Clients whose buckets are remembered; the least recent go first."
    )
    max_body_bytes: int = Field(default=1 * MB, ge=0, description="Largest request body.")
    max_upload_bytes: int = Field(
        default=60 * MB,
        ge=0,
        description=(
            "Largest request body on `upload_paths`, all files together (a homologação package: files of "
            "up to 20 MB each, three of the largest at most)."
        ),
    )
    request_timeout_s: float = Field(
        default=90.0,
        gt=0,
        description=(
            "Serve's http_options.request_timeout_s (`serve_app.main` passes it; a Serve YAML sets it under "
            "http_options): the proxy answers 408 and cancels the request. Above the chat chain's timeout."
        ),
    )
    upload_paths: list[str] = Field(
        default_factory=lambda: ["/store/helio/homologacao/check"],
        description="Multipart upload endpoints, which take `max_upload_bytes`.",
    )


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by client key: `burst` tokens, refilled at `rate_per_s`; a request takes one."""

    def __init__(
        self, rate_per_s: float, burst: int, max_clients: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate_per_s
        self._burst = burst
        self._max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, client: str) -> float:
        """0 when the request may go; else the seconds until it could."""
        now = self._clock()
        bucket = self._buckets.pop(client, None) or _Bucket(float(self._burst), now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        self._buckets[client] = bucket  # most recent last
        if len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self._rate


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_key(
    peer: str | None,
    forwarded_for: str | None,
    trusted: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> str:
    """Who a request is from, for rate limiting."""
    key = peer or "unknown"
    address = _address(key)
    if not forwarded_for or address is None or not any(address in network for network in trusted):
        return key
    for entry in reversed(forwarded_for.split(",")):
        key = entry.strip()
        hop = _address(key)
        if hop is None or not any(hop in network for network in trusted):
            break
    return key or "unknown"


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(ErrorBody(detail=detail).model_dump(), status_code=status, headers=headers)


class RequestLimits:
    """ASGI middleware: `app.add_middleware(RequestLimits, options=LimitsOptions(...))`."""

    def __init__(
        self, app: ASGIApp, options: LimitsOptions, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._options = options
        self._limiter = RateLimiter(options.rate_per_s, options.burst, options.max_clients, clock)
        self._bodies = RequestBodyLimitMiddleware(app, options.max_body_bytes)
        self._uploads = RequestBodyLimitMiddleware(app, options.max_upload_bytes)
        self._upload_paths = frozenset(options.upload_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._bodies.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = Headers(scope=scope)
        if path.startswith(self._options.rate_limited_prefix):
            peer = scope["client"][0] if scope.get("client") else None
            client = client_key(peer, headers.get("x-forwarded-for"), self._options.trusted_proxies)
            if wait_s := self._limiter.take(client):
                retry_after = str(max(1, math.ceil(wait_s)))
                response = _error(
                    429, f"too many requests: retry after {retry_after} s", {"Retry-After": retry_after}
                )
                await response(scope, receive, send)
                return
        limited = self._uploads if path in self._upload_paths else self._bodies
        length = headers.get("content-length", "")
        if length.isascii() and length.isdigit() and int(length) > limited.max_body_size:
            await _error(413, f"request body over {limited.max_body_size} bytes")(scope, receive, send)
            return
        await limited(scope, receive, send)
