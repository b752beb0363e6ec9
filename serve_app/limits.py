"""Request limits of the HTTP API: rates per caller on `/store/...` and `/admin/...` and a body size cap
on every request, answered as `{"detail": ...}` JSON (429 with `Retry-After`, 413, 401 for a wrong key).

Callers of `/store/...`:
- an application presenting its API key (`X-API-Key`; keys in `API_KEYS`, quotas in `callers`): the
  application's own bucket, and, when it names the shopper it calls for (`X-Shopper-Id`), that shopper's
  bucket within it — so the storefront's backend, one IP for every shopper, is neither throttled as one
  client nor able to let one shopper starve the others. `X-Shopper-Id` counts only with a valid key;
- anyone else: a bucket per client IP. A wrong key is a 401, after it took from that IP's bucket, so keys
  cannot be guessed faster than the anonymous rate.
`/admin/...` has a small bucket per client IP of its own, whatever the token.

Buckets are token buckets held in the router replica's memory: N router replicas let a caller through N
times the configured rate. The client IP is the TCP peer, or, when the peer is a trusted proxy, the
rightmost `X-Forwarded-For` entry that is not itself a trusted proxy (entries further left are whatever
the client chose to send).

The body cap is Starlette's `RequestBodyLimitMiddleware` (it counts streamed chunks, so a chunked upload
without `Content-Length` is cut too), with the larger upload cap on the upload paths; a `Content-Length`
over the cap is refused here before the app reads a byte. Slow clients are bounded by Serve's
`http_options.request_timeout_s` (the proxy answers 408 and cancels the replica's request), not here:
`request_timeout_s` below is handed to it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork
from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from serve_app.errors import error_response

MB = 1024 * 1024
API_KEY_HEADER = "x-api-key"
SHOPPER_HEADER = "x-shopper-id"
MAX_SHOPPER_ID_CHARS = 128


class CallerLimits(BaseModel):
    """The quota of one calling application (storefront, back office, scripts)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_per_s: float = Field(
        default=100.0, gt=0, description="Requests per second, all its shoppers together."
    )
    burst: int = Field(default=200, ge=1, description="Requests it may make at once before the rate.")
    shopper_rate_per_s: float = Field(
        default=5.0, gt=0, description="Requests per second for one shopper it names in X-Shopper-Id."
    )
    shopper_burst: int = Field(default=20, ge=1, description="A shopper's requests at once before the rate.")


class LimitsOptions(BaseModel):
    """Rate and size limits of the router's HTTP API (per replica)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_per_s: float = Field(
        default=10.0,
        gt=0,
        description="Requests per second a client IP without an API key may make to /store/… (sustained).",
    )
    burst: int = Field(default=40, ge=1, description="Requests a client may make at once before the rate.")
    rate_limited_prefix: str = Field(default="/store/", description="Paths the per-client rate applies to.")
    callers: dict[str, CallerLimits] = Field(
        default_factory=dict,
        description="Quotas of the applications with an API key, by the name API_KEYS gives their key.",
    )
    default_caller: CallerLimits = Field(
        default_factory=CallerLimits, description="The quota of a keyed application `callers` does not name."
    )
    admin_prefix: str = Field(default="/admin/", description="Paths the admin rate applies to.")
    # Enough for an operator's dashboard or a script polling the run history, not for hammering it.
    admin_rate_per_s: float = Field(
        default=5.0, gt=0, description="Requests per second a client IP may make to /admin/…."
    )
    admin_burst: int = Field(default=20, ge=1, description="Admin requests at once before the rate.")
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


def _too_many(wait_s: float) -> JSONResponse | None:
    if not wait_s:
        return None
    retry_after = str(max(1, math.ceil(wait_s)))
    return error_response(
        429, f"too many requests: retry after {retry_after} s", {"Retry-After": retry_after}
    )


def _digest(key: str) -> bytes:
    # Keys are looked up by digest: a dict lookup on the key itself would leak its prefix through timing.
    return hashlib.sha256(key.encode()).digest()


class RequestLimits:
    """ASGI middleware: `app.add_middleware(RequestLimits, options=LimitsOptions(...), api_keys={...})`;
    `api_keys` maps each calling application's name to its key (`Settings.caller_keys()`)."""

    def __init__(
        self,
        app: ASGIApp,
        options: LimitsOptions,
        clock: Callable[[], float] = time.monotonic,
        api_keys: Mapping[str, str] | None = None,
    ) -> None:
        self._options = options
        self._anonymous = RateLimiter(options.rate_per_s, options.burst, options.max_clients, clock)
        self._admin = RateLimiter(options.admin_rate_per_s, options.admin_burst, options.max_clients, clock)
        self._callers = {_digest(key): name for name, key in (api_keys or {}).items()}
        self._keyed: dict[str, tuple[RateLimiter, RateLimiter]] = {}
        for name in api_keys or {}:
            quota = options.callers.get(name, options.default_caller)
            self._keyed[name] = (
                RateLimiter(quota.rate_per_s, quota.burst, 1, clock),
                RateLimiter(quota.shopper_rate_per_s, quota.shopper_burst, options.max_clients, clock),
            )
        self._bodies = RequestBodyLimitMiddleware(app, options.max_body_bytes)
        self._uploads = RequestBodyLimitMiddleware(app, options.max_upload_bytes)
        self._upload_paths = frozenset(options.upload_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._bodies.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = Headers(scope=scope)
        if refusal := self._refusal(scope, path, headers):
            await refusal(scope, receive, send)
            return
        limited = self._uploads if path in self._upload_paths else self._bodies
        length = headers.get("content-length", "")
        if length.isascii() and length.isdigit() and int(length) > limited.max_body_size:
            await error_response(413, f"request body over {limited.max_body_size} bytes")(
                scope, receive, send
            )
            return
        await limited(scope, receive, send)

    def _refusal(self, scope: Scope, path: str, headers: Headers) -> JSONResponse | None:
        """The answer when the caller is over its rate or presents a wrong key; None lets it through."""
        admin = path.startswith(self._options.admin_prefix)
        if not admin and not path.startswith(self._options.rate_limited_prefix):
            return None
        peer = scope["client"][0] if scope.get("client") else None
        client = client_key(peer, headers.get("x-forwarded-for"), self._options.trusted_proxies)
        if admin:
            return _too_many(self._admin.take(client))
        key = headers.get(API_KEY_HEADER)
        if key is None:
            return _too_many(self._anonymous.take(client))
        caller = self._callers.get(_digest(key))
        if caller is None:
            return _too_many(self._anonymous.take(client)) or error_response(401, "invalid API key")
        total, shoppers = self._keyed[caller]
        shopper = headers.get(SHOPPER_HEADER)
        if shopper is not None and len(shopper) > MAX_SHOPPER_ID_CHARS:
            return error_response(400, f"X-Shopper-Id longer than {MAX_SHOPPER_ID_CHARS} characters")
        if shopper and (refused := _too_many(shoppers.take(shopper))):
            return refused
        return _too_many(total.take(caller))
