"""ErpClient over real HTTP against the ERP simulator (a stand-in: the real ERP is proprietary):
paging, retries with backoff on 5xx/429/timeouts/connection errors, none on other 4xx, idempotent writes.
Backoff delays are recorded instead of slept."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from pydantic import ValidationError

from common.erp_client import ErpClient, ErpError, ErpRefused, ErpUnavailable, RetryPolicy, url_path
from erp.records import ErpOrder
from tests.conftest import free_port
from tests.erp.conftest import BAD_IDS, TOKEN
from tests.erp_simulator import EPOCH, ErpSimulator


def client(url: str, waits: list[float], *, token: str = TOKEN, timeout_s: float = 5.0) -> ErpClient:
    return ErpClient(
        url,
        token=token,
        timeout_s=timeout_s,
        retry=RetryPolicy(attempts=3, base_s=0.5, cap_s=4),
        sleep=waits.append,
        jitter=lambda: 0.0,
    )


def test_pages_follow_the_cursor_from_the_watermark(erp_url: str, erp: ErpSimulator) -> None:
    stamps = [
        erp.put_product("Solar Sul", f"SS-{i}", stock=i, prices={"B1": "10.00"})["updated_at"]
        for i in range(5)
    ]
    with client(erp_url, []) as erp_client:
        pages = list(erp_client.pages("products", updated_since=None, limit=2))
        assert [len(page.items) for page in pages] == [2, 2, 1]
        since = datetime.fromisoformat(stamps[3])
        later = list(erp_client.pages("products", updated_since=since, limit=2))
    assert [item["sku"] for page in later for item in page.items] == ["SS-3", "SS-4"]  # inclusive


@pytest.mark.parametrize("status", [500, 503, 429])
def test_retryable_statuses_are_retried_with_growing_waits(
    erp_url: str, erp: ErpSimulator, status: int
) -> None:
    erp.faults.errors, erp.faults.error_status = 2, status
    waits: list[float] = []
    with client(erp_url, waits) as erp_client:
        assert [page.items for page in erp_client.pages("orders", updated_since=None)] == [[]]
    assert waits == [0.25, 0.5]
    assert erp.requests == ["GET /orders"] * 3


def test_a_timeout_is_retried(erp_url: str, erp: ErpSimulator) -> None:
    erp.faults.slow, erp.faults.slow_s = 1, 2.0
    waits: list[float] = []
    with client(erp_url, waits, timeout_s=0.3) as erp_client:
        assert [p.items for p in erp_client.pages("homologacao", updated_since=EPOCH)] == [[]]
    assert waits == [0.25]


def test_retries_end_with_erp_unavailable(erp_url: str, erp: ErpSimulator) -> None:
    erp.faults.errors = 10
    waits: list[float] = []
    with client(erp_url, waits) as erp_client, pytest.raises(ErpUnavailable, match="3 times; last: HTTP 500"):
        list(erp_client.pages("products", updated_since=None))
    assert waits == [0.25, 0.5] and len(erp.requests) == 3


def test_a_refused_connection_is_retried_then_unavailable() -> None:
    waits: list[float] = []
    with client(f"http://127.0.0.1:{free_port()}", waits) as erp_client, pytest.raises(ErpUnavailable):
        erp_client.send_order(ErpOrder(order_id="A-1", status="placed", updated_at=EPOCH, version=1), key="k")
    assert len(waits) == 2


def test_other_4xx_are_not_retried(erp_url: str, erp: ErpSimulator) -> None:
    waits: list[float] = []
    with client(erp_url, waits, token="wrong") as erp_client, pytest.raises(ErpRefused) as refused:
        list(erp_client.pages("products", updated_since=None))
    assert refused.value.status_code == 401
    assert waits == [] and erp.requests == ["GET /products"]


def test_a_retried_order_is_one_erp_order(erp_url: str, erp: ErpSimulator) -> None:
    order = ErpOrder(order_id="A-1", status="placed", updated_at=EPOCH, version=1)
    erp.faults.accept_then_fail = 1  # stored by the ERP, reply lost: the client retries with the same key
    with client(erp_url, []) as erp_client:
        first = erp_client.send_order(order, key="key-1")
        assert erp_client.send_order(order, key="key-1") == first
        assert erp_client.send_order(order.model_copy(update={"order_id": "B-2"}), key="key-2") != first
    assert len(erp.created) == 2 and erp.requests.count("POST /orders") == 4


def test_a_homologacao_check_sent_twice_is_one_record(erp_url: str, erp: ErpSimulator) -> None:
    items = [{"name": "art", "ok": True}, {"name": "diagrama unifilar", "ok": False, "detail": "falta"}]
    with client(erp_url, []) as erp_client:
        first = erp_client.post_homologacao_check("A-1", "failed", items)
        assert erp_client.post_homologacao_check("A-1", "failed", items) == first
        assert erp_client.post_homologacao_check("A-1", "ok", []) != first
    assert erp.checks[next(iter(erp.checks))]["items"] == items


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"items": [], "next_cursor": "7"}, "keeps answering cursor '7'"),
        ({"rows": []}, "malformed page"),
        ("<html>maintenance</html>", "malformed page"),
    ],
)
def test_a_misbehaving_listing_ends_with_an_error(body: Any, problem: str) -> None:
    """In-process transport: these answers are the ERP's bugs, which the simulator does not model."""

    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(200, text=body)
        return httpx.Response(200, json=body)

    erp_client = ErpClient("http://erp", token=TOKEN, timeout_s=1, transport=httpx.MockTransport(answer))
    with erp_client, pytest.raises(ErpError, match=problem):
        list(erp_client.pages("products", updated_since=None))


UNQUOTABLE = ("", ".", "..")  # unreserved characters: a URL reads them as "this" or "the parent" segment
# Values that, unquoted, would climb, add a segment, or end the path (a query, a fragment, a control).
PATH_CHANGING = {
    "parent-parent": "../..",
    "encoded-slash": "..%2f..",
    "encoded-dots": "%2e%2e",
    "absolute": "/etc/passwd",
    "slash": "a/b",
    "query": "?x=1",
    "fragment": "#x",
    "newline": "A-1\n",
    "nul": "A-1\x00",
}


@pytest.mark.parametrize("value", PATH_CHANGING.values(), ids=PATH_CHANGING.keys())
def test_every_url_path_segment_is_quoted_whole(value: str) -> None:
    """Even a value that no id check stopped stays one segment of the URL the client sends."""
    url = (
        httpx.Client(base_url="http://erp/api")
        .build_request("POST", url_path("orders", value, "homologacao-checks"))
        .url
    )
    assert (url.query, url.fragment) == (b"", "")
    _, api, orders, segment, checks = url.raw_path.decode().split("/")
    assert (api, orders, unquote(segment), checks) == ("api", "orders", value, "homologacao-checks")


@pytest.mark.parametrize("value", UNQUOTABLE)
def test_segments_that_quoting_cannot_hold_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a URL path segment"):
        url_path("orders", value, "homologacao-checks")


def test_a_check_reaches_the_erp_under_its_order_id_and_a_bad_id_sends_nothing(
    erp_url: str, erp: ErpSimulator
) -> None:
    with client(erp_url, []) as erp_client:
        erp_client.post_homologacao_check("PED-2026.11_a", "ok", [])
        for bad in BAD_IDS.values():
            with pytest.raises(ValidationError, match="is not an id"):
                erp_client.post_homologacao_check(bad, "ok", [])
    assert erp.requests == ["POST /orders/PED-2026.11_a/homologacao-checks"]
    assert [check["order_id"] for check in erp.checks.values()] == ["PED-2026.11_a"]
