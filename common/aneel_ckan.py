"""A client for the ANEEL open-data portal's CKAN `datastore_search` API (dadosabertos.aneel.gov.br).

    GET {base}/api/3/action/datastore_search?resource_id=…&limit=…&offset=…
    → {"success": true, "result": {"records": [...], "total": N, "fields": [...]}}

`CkanTariffClient.lines()` pages through the whole resource and yields it as the published CSV would be
(a header, then one `;`-separated, quoted, decimal-comma line per record), so `solar.tariffs.
parse_tariff_rows` reads both sources with the same rules and rejects.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from typing import Any

import httpx

from solar.tariffs import COLUMNS


class CkanError(RuntimeError):
    """The portal answered but refused the request (`success: false`), or answered something unusable."""


class CkanTariffClient:
    def __init__(
        self,
        base_url: str,
        resource_id: str,
        *,
        page_size: int = 10_000,
        timeout_s: float = 60.0,
        retries: int = 4,
        backoff_s: float = 1.0,
        client: httpx.Client | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be positive")
        self.base_url = base_url.rstrip("/")
        self.resource_id = resource_id
        self.page_size = page_size
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self._client = client

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/api/3/action/datastore_search"

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record of the resource, page by page, until `total` are read (or a page comes back empty)."""
        client = self._client or httpx.Client(timeout=self.timeout_s)
        try:
            offset = 0
            while True:
                result = self._page(client, offset)
                records = result.get("records") or []
                yield from records
                offset += len(records)
                total = result.get("total")
                if not records or (isinstance(total, int) and offset >= total):
                    return
        finally:
            if self._client is None:
                client.close()

    def lines(self) -> Iterator[str]:
        """The resource as CSV lines in the published format, header first."""
        yield _csv_line(COLUMNS)
        for record in self.records():
            yield _csv_line([_field(record.get(column)) for column in COLUMNS])

    def _page(self, client: httpx.Client, offset: int) -> dict[str, Any]:
        params: dict[str, str | int] = {
            "resource_id": self.resource_id,
            "limit": self.page_size,
            "offset": offset,
        }
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = client.get(self.endpoint, params=params)
            except (httpx.TimeoutException, httpx.TransportError):
                if last:
                    raise
            else:
                if response.status_code < 500 or last:
                    return _result(response, offset)
            time.sleep(self.backoff_s * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover


def _result(response: httpx.Response, offset: int) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        response.raise_for_status()
        raise CkanError(
            f"datastore_search at offset {offset}: not JSON (HTTP {response.status_code})"
        ) from None
    if not isinstance(body, dict) or body.get("success") is not True:
        error = body.get("error") if isinstance(body, dict) else body
        raise CkanError(f"datastore_search at offset {offset} failed (HTTP {response.status_code}): {error}")
    result = body.get("result")
    if not isinstance(result, dict):
        raise CkanError(f"datastore_search at offset {offset}: no result in the answer")
    return result


def _field(value: Any) -> str:
    """A datastore value as the CSV writes it: numbers with a decimal comma, null as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return repr(value).replace(".", ",")
    return str(value)


def _csv_line(fields: Any) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", quotechar='"', quoting=csv.QUOTE_ALL, lineterminator="").writerow(
        fields
    )
    return buffer.getvalue()
