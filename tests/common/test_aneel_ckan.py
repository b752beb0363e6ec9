"""`CkanTariffClient` against a local stand-in for the ANEEL portal's CKAN `datastore_search` API.

The real portal (dadosabertos.aneel.gov.br) cannot be reached from the test machines, so a small
http.server on 127.0.0.1, in a thread, serves the shipped sample's rows as CKAN does: pages of
`records` with `total`, `success: false` for an unknown resource, and 503s when told to.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from common.aneel_ckan import CkanError, CkanTariffClient
from common.resources import Resources
from common.settings import Settings
from ray_jobs.tariffs import TariffsJobConfig, run
from solar.parameters import DATA_DIR
from solar.tariffs import COLUMNS, TariffRow, parse_tariff_rows, residential_tariffs

RESOURCE = "fcf2906c-7c32-4b9b-a637-054e7a5234f4"
SAMPLE = DATA_DIR / "tarifas-amostra.csv"


def sample_records(numeric: bool) -> list[dict[str, Any]]:
    text = SAMPLE.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    records: list[dict[str, Any]] = []
    for number, row in enumerate(rows, start=1):
        record: dict[str, Any] = {"_id": number, **row}
        if numeric:  # the datastore may type the values: numbers with a decimal point
            for column in ("VlrTUSD", "VlrTE"):
                record[column] = float(row[column].replace(".", "").replace(",", "."))
        records.append(record)
    return records


@dataclass
class Portal:
    url: str
    records: list[dict[str, Any]]
    fail_next: int = 0  # answer this many requests with 503 first
    offsets: list[int] = field(default_factory=list)
    requests: int = 0


@pytest.fixture
def portal() -> Iterator[Portal]:
    state = Portal(url="", records=sample_records(numeric=False))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests += 1
            parsed = urlparse(self.path)
            query = {key: values[0] for key, values in parse_qs(parsed.query).items()}
            if state.fail_next > 0:
                state.fail_next -= 1
                self._send(503, {"error": "Service Unavailable"})
                return
            if parsed.path != "/api/3/action/datastore_search":
                self._send(404, {"success": False, "error": {"message": "Not found"}})
                return
            if query.get("resource_id") != RESOURCE:
                error = {"message": "Not found: Resource was not found.", "__type": "Not Found Error"}
                self._send(404, {"success": False, "error": error})
                return
            limit, offset = int(query.get("limit", 100)), int(query.get("offset", 0))
            state.offsets.append(offset)
            fields = [{"id": "_id", "type": "int"}] + [{"id": c, "type": "text"} for c in COLUMNS]
            result = {
                "resource_id": RESOURCE,
                "fields": fields,
                "records": state.records[offset : offset + limit],
                "total": len(state.records),
                "limit": limit,
                "offset": offset,
            }
            self._send(200, {"success": True, "result": result})

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def client(portal: Portal, **options: Any) -> CkanTariffClient:
    return CkanTariffClient(
        portal.url, RESOURCE, **({"page_size": 10, "backoff_s": 0.0, "timeout_s": 5} | options)
    )


def without_line(rows: list[Any]) -> list[dict[str, Any]]:
    return [row.model_dump(exclude={"line"}) for row in rows]


@pytest.mark.parametrize("numeric", [False, True])
def test_every_page_is_read_and_parses_like_the_csv(portal: Portal, numeric: bool) -> None:
    portal.records = sample_records(numeric)
    from_api = list(parse_tariff_rows(client(portal).lines()))
    from_csv = list(parse_tariff_rows(SAMPLE.read_bytes()))
    assert all(isinstance(row, TariffRow) for row in from_api)
    assert without_line(from_api) == without_line(from_csv)
    assert portal.offsets == list(range(0, len(portal.records), 10))
    on = date(2026, 9, 1)
    assert residential_tariffs(from_api, on) == residential_tariffs(from_csv, on)


def test_a_503_is_retried(portal: Portal) -> None:
    portal.fail_next = 2
    records = list(client(portal, retries=2).records())
    assert len(records) == len(portal.records)
    pages = -(-len(portal.records) // 10)
    assert portal.requests == pages + 2


def test_retries_give_up_with_the_http_error(portal: Portal) -> None:
    portal.fail_next = 5
    with pytest.raises(CkanError, match="503"):
        list(client(portal, retries=1).records())


def test_success_false_is_a_clear_error(portal: Portal) -> None:
    unknown = CkanTariffClient(portal.url, "no-such-resource", backoff_s=0.0)
    with pytest.raises(CkanError, match="Resource was not found"):
        list(unknown.records())


def test_the_job_reads_the_portal(portal: Portal, fresh_settings: Settings) -> None:
    config = TariffsJobConfig(source=portal.url, resource_id=RESOURCE, on=date(2026, 9, 1), page_size=25)
    report = run(config, Resources(fresh_settings))
    assert (report.accepted, report.new, report.rejected) == (len(portal.records), len(portal.records), 0)
    assert report.utilities >= 10
    assert run(config, Resources(fresh_settings)).new == 0
