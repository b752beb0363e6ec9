"""HTTP client of the ERP API (contract: deploy/erp-openapi.yaml).

Bearer auth, a per-request timeout, and retries with exponential backoff and jitter on what may pass
on a retry: 5xx, 429, timeouts and connection errors; any other 4xx is final (`ErpRefused`). Listings
are read page by page, from an `updated_since` watermark. Writes carry an `Idempotency-Key`, so a
retried POST is still one ERP record. The waiting (`sleep`) and the jitter are injectable: tests
record the delays instead of sleeping. Every path is built by `url_path`, one quoted segment per value.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field

from common.settings import Settings
from erp.records import ErpOrder, HomologacaoCheck, Page
from erp.rules import backoff_delay, idempotency_key, is_retryable_status

LISTINGS = ("products", "orders", "homologacao")


def url_path(*segments: str) -> str:
    """The path of these segments, each percent-encoded whole (`/` and `%` included), so a value stays
    one segment of the path. Ids are checked where they enter (`erp.records.ExternalId`); this holds for
    any value that reaches a URL. ValueError for an empty, `.` or `..` segment: those are unreserved
    characters, which quoting leaves as they are, and a URL reads them as "drop" or "climb" a segment."""
    for segment in segments:
        if segment in ("", ".", ".."):
            raise ValueError(f"{segment!r} is not a URL path segment")
    return "".join(f"/{quote(segment, safe='')}" for segment in segments)


class RetryPolicy(BaseModel):
    attempts: int = Field(default=5, ge=1, description="Tries per request, the first included.")
    base_s: float = Field(default=0.5, gt=0, description="Ceiling of the first backoff; doubles per retry.")
    cap_s: float = Field(default=15.0, gt=0, description="Longest single wait between two tries.")


class ErpError(Exception):
    """The ERP could not be used for this request."""


class ErpUnavailable(ErpError):
    """Every try failed with a retryable error (5xx, 429, timeout, connection): try again later."""


class ErpRefused(ErpError):
    """A 4xx other than 429: the request itself is wrong, and would fail again."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"ERP refused the request ({status_code}): {detail}")
        self.status_code = status_code


class ErpClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None,
        timeout_s: float,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s, transport=transport
        )
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._jitter = jitter

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> ErpClient:
        if not settings.erp_url:
            raise ValueError("ERP_URL is not set")
        token = settings.erp_token.get_secret_value() if settings.erp_token else None
        return cls(settings.erp_url, token=token, timeout_s=settings.erp_timeout_s, **kwargs)

    def __enter__(self) -> ErpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def pages(self, listing: str, *, updated_since: datetime | None, limit: int = 200) -> Iterator[Page]:
        """Every page of a listing ("products", "orders", "homologacao") changed at or after
        `updated_since`, lazily: a caller that stores each page before asking for the next one never
        holds more than a page, and resumes from its own watermark after a crash."""
        if listing not in LISTINGS:
            raise ValueError(f"unknown ERP listing {listing!r}")
        path = url_path(listing)
        params: dict[str, Any] = {"limit": limit}
        if updated_since is not None:
            params["updated_since"] = updated_since.isoformat()
        repeats = 0
        while True:
            response = self._request("GET", path, params=params)
            try:
                page = Page.model_validate(response.json())
            except ValueError as error:  # not JSON, or not a page
                raise ErpError(f"malformed page from GET {path}: {error}") from error
            yield page
            if page.next_cursor is None:
                return
            # a page may be served twice, but an ERP that never moves on would hold the job forever
            repeats = repeats + 1 if page.next_cursor == params.get("cursor") else 0
            if repeats > 2:
                raise ErpError(f"GET {path} keeps answering cursor {page.next_cursor!r}")
            params["cursor"] = page.next_cursor

    def send_order(self, order: ErpOrder, *, key: str) -> str:
        """Create the order in the ERP (or get the one this key created before); returns its ERP id."""
        response = self._request(
            "POST", url_path("orders"), json=order.model_dump(mode="json"), headers={"Idempotency-Key": key}
        )
        return str(response.json()["erp_order_id"])

    def post_homologacao_check(self, order_id: str, status: str, items: list[dict[str, Any]]) -> str:
        """Send the platform's homologação check of an order; the same check sent twice is one record
        (its key is derived from its content). Returns the ERP's check id. An `order_id` that is not an
        `erp.records.ExternalId` raises pydantic's ValidationError before anything is sent."""
        check = HomologacaoCheck(order_id=order_id, status=status, items=items)
        key = idempotency_key("homologacao-check", check.model_dump_json())
        response = self._request(
            "POST",
            url_path("orders", check.order_id, "homologacao-checks"),
            json=check.model_dump(mode="json"),
            headers={"Idempotency-Key": key},
        )
        return str(response.json()["check_id"])

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        failure = ""
        for attempt in range(self.retry.attempts):
            if attempt:
                self._sleep(
                    backoff_delay(
                        attempt - 1, base_s=self.retry.base_s, cap_s=self.retry.cap_s, jitter=self._jitter()
                    )
                )
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as error:  # timeouts, refused or dropped connections
                failure = f"{type(error).__name__}: {error}"
                continue
            if response.is_success:
                return response
            if not is_retryable_status(response.status_code):
                raise ErpRefused(response.status_code, response.text[:500])
            failure = f"HTTP {response.status_code}"
        raise ErpUnavailable(f"{method} {path} failed {self.retry.attempts} times; last: {failure}")
