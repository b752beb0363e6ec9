"""Feed parsing fuzzed (hypothesis) with the real layouts of catalog/feeds.yaml: random bytes, random
cells, huge fields, text in the wrong encoding, CSV quoting and line-break edge cases, random JSON.

What must hold whatever the input: parsing never raises; every output is a record or a reject with a
reason code; a damaged row between two good ones is rejected alone (or loaded, when it happens to be a
valid row) and both good rows load; and the rejects store in Postgres as they are.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.feed_readers import RejectCode
from catalog.feeds import DistributorFeed
from catalog.parsing import parse_feed_file
from common import postgres
from common.catalog_store import record_rejects
from common.settings import Settings
from kernel.schemas import FeedRecord, RejectedRow
from samples.feeds.render import header_order
from tests.catalog.test_parsing import (
    ATLAS_MODULE,
    ATLAS_STRUCTURE,
    BRIGHTLINE_KIT,
    BRIGHTLINE_PANEL,
    FEEDS,
    GREENVOLT,
    GREENVOLT_INVERTER,
    GREENVOLT_PANEL,
    NORDESTE,
    NORDESTE_INVERTER,
    NORDESTE_MODULE,
    jsonl,
    xlsx_file,
    xlsx_row,
)
from tests.conftest import new_database

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None)
REJECT_CODES = tuple(f"{code}: " for code in RejectCode)
HUGE = 200_000  # characters in one field


def parse(feed: DistributorFeed, data: bytes) -> tuple[list[FeedRecord], list[RejectedRow]]:
    items = list(parse_feed_file(feed, f"{feed.name}/fuzz", data))
    records = [item for item in items if isinstance(item, FeedRecord)]
    rejects = [item for item in items if isinstance(item, RejectedRow)]
    assert len(records) + len(rejects) == len(items)
    for reject in rejects:
        assert reject.reason.startswith(REJECT_CODES), reject.reason
        assert reject.line > 0 or reject.raw.startswith("<")
    for record in records:  # what Postgres text cannot hold would fail the whole catalog write
        assert "\x00" not in record.model_dump_json().replace("\\u0000", "\x00"), record
    return records, rejects


@given(data=st.binary(max_size=4000))
@FUZZ
@pytest.mark.parametrize("name", sorted(FEEDS))
def test_random_bytes_never_raise(name: str, data: bytes) -> None:
    parse(FEEDS[name], data)


@given(data=st.binary(max_size=2000))
@FUZZ
@pytest.mark.parametrize("name", ["solar_nordeste", "greenvolt", "kit_center", "brightline"])
def test_random_bytes_after_a_valid_header_never_raise(name: str, data: bytes) -> None:
    feed = FEEDS[name]
    header = "" if feed.format == "jsonl" else feed.delimiter.join(header_order(feed)) + "\r\n"
    parse(feed, header.encode(feed.encoding) + data)


def cells(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A cell: short text from `alphabet` (delimiters, quotes, line breaks included), or a huge one."""
    return st.one_of(
        st.text(alphabet, max_size=30),
        st.sampled_from(["", " ", '"', '""', "\n", "\r\n", "\x00", "R$ 1.2O0,00", "550 HP", "-1", "1e309"]),
        st.integers(1_000, HUGE).map(lambda n: "9" * n),
    )


def csv_line(feed: DistributorFeed, row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=feed.delimiter, lineterminator="").writerow(row)
    return out.getvalue()


def csv_row(feed: DistributorFeed, values: dict[str, str]) -> list[str]:
    return [values.get(header, values.get(feed.columns.get(header, ""), "")) for header in header_order(feed)]


def damaged_csv_rows(feed: DistributorFeed) -> st.SearchStrategy[list[str]]:
    latin1 = st.characters(codec="latin-1")
    return st.one_of(
        st.lists(cells(latin1), max_size=len(feed.columns) + 3),  # random cells, any count
        # a good row with some cells replaced
        st.dictionaries(st.sampled_from(header_order(feed)), cells(latin1), max_size=4).map(
            lambda changes: [
                changes.get(h, c) for h, c in zip(header_order(feed), _good_row(feed), strict=True)
            ]
        ),
    )


def _good_row(feed: DistributorFeed) -> list[str]:
    good = NORDESTE_MODULE if feed is NORDESTE else GREENVOLT_PANEL
    return csv_row(feed, {**good, "sku": "FUZZ-0001"})


GOOD_CSV = {
    "solar_nordeste": (NORDESTE_MODULE, NORDESTE_INVERTER),
    "greenvolt": (GREENVOLT_PANEL, GREENVOLT_INVERTER),
}


@given(data=st.data())
@FUZZ
@pytest.mark.parametrize("name", sorted(GOOD_CSV))
def test_a_damaged_csv_row_never_costs_the_good_rows(name: str, data: st.DataObject) -> None:
    feed = FEEDS[name]
    first, last = GOOD_CSV[name]
    damaged = data.draw(damaged_csv_rows(feed))
    encoding = data.draw(st.sampled_from([feed.encoding, "utf-8", "latin-1", "cp1252"]))
    damaged_line = csv_line(feed, damaged).encode(encoding, "replace")
    lines = [csv_line(feed, csv_row(feed, first)).encode(feed.encoding), damaged_line]
    lines.append(csv_line(feed, csv_row(feed, last)).encode(feed.encoding))
    header = feed.delimiter.join(header_order(feed)).encode(feed.encoding)
    records, rejects = parse(feed, b"\r\n".join([header, *lines, b""]))
    skus = [record.sku for record in records]
    assert skus[0] == first["sku"] and skus[-1] == last["sku"], [r.reason for r in rejects]
    if any(cell.strip() for cell in damaged) and not any("\n" in c or "\r" in c for c in damaged):
        assert len(records) + len(rejects) == 3  # a blank row is skipped; the rest is one row
    assert all(reject.line >= 3 for reject in rejects)


@given(
    damaged=st.lists(
        st.one_of(st.none(), st.integers(), st.floats(allow_nan=True), cells(st.characters()), st.booleans()),
        max_size=len(FEEDS["atlas_energia"].columns) + 3,
    )
)
@settings(max_examples=20, deadline=None, derandomize=True, database=None)
def test_a_damaged_xlsx_row_never_costs_the_good_rows(damaged: list[Any]) -> None:
    # openpyxl refuses control characters and cells over 32767 characters: not a feed we can get.
    damaged = [
        cell[:32_000].translate(dict.fromkeys(range(32))) if isinstance(cell, str) else cell
        for cell in damaged
    ]
    records, _ = parse(
        FEEDS["atlas_energia"], xlsx_file([xlsx_row(ATLAS_MODULE), damaged, xlsx_row(ATLAS_STRUCTURE)])
    )
    skus = [record.sku for record in records]
    assert skus[0] == str(ATLAS_MODULE["sku"]) and skus[-1] == str(ATLAS_STRUCTURE["sku"])


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
BRIGHTLINE_KEYS = ["id", "title", "type", "manufacturer", "part_number", "specs", "pricing", "inventory"]


@given(
    damaged=st.one_of(
        JSON_VALUES.map(lambda value: json.dumps(value).encode()),
        st.dictionaries(st.sampled_from(BRIGHTLINE_KEYS), JSON_VALUES, max_size=5).map(
            lambda changes: json.dumps({**BRIGHTLINE_PANEL, "id": "bl-fuzz", **changes}).encode()
        ),
        st.binary(max_size=200).filter(lambda raw: b"\n" not in raw),
        st.integers(1_000, HUGE).map(lambda n: json.dumps({**BRIGHTLINE_PANEL, "title": "x" * n}).encode()),
    )
)
@FUZZ
def test_a_damaged_jsonl_line_never_costs_the_good_lines(damaged: bytes) -> None:
    records, rejects = parse(
        FEEDS["brightline"], jsonl(BRIGHTLINE_PANEL) + damaged + b"\n" + jsonl(BRIGHTLINE_KIT)
    )
    assert [records[0].sku, records[-1].sku] == [BRIGHTLINE_PANEL["id"], BRIGHTLINE_KIT["id"]]
    assert len(records) + len(rejects) == 3 or not damaged.strip()


@pytest.fixture(scope="module")
def conn(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    with postgres.connect(new_database(settings)) as conn:
        postgres.migrate(conn)
        yield conn


@given(data=st.binary(min_size=1, max_size=1000), name=st.sampled_from(["solar_nordeste", "greenvolt"]))
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_every_reject_is_stored(conn: psycopg.Connection[Any], data: bytes, name: str) -> None:
    feed = FEEDS[name]
    header = feed.delimiter.join(header_order(feed)).encode(feed.encoding) + b"\n"
    _, rejects = parse(feed, header + data)
    rejects = [r.model_copy(update={"source_file": f"fuzz/{uuid.uuid4()}"}) for r in rejects]
    run_id = postgres.start_job_run(conn, job="fuzz")
    assert record_rejects(conn, rejects=rejects, run_id=run_id) == len(
        {(r.line, r.raw, r.reason) for r in rejects}
    )


@pytest.mark.parametrize("quote", [b"", b'"'])
def test_a_field_over_the_csv_size_limit_rejects_its_row_only(quote: bytes) -> None:
    good = csv_line(GREENVOLT, csv_row(GREENVOLT, GREENVOLT_PANEL)).encode()
    huge = quote + b"x" * 200_000 + quote
    header = ",".join(header_order(GREENVOLT)).encode()
    records, rejects = parse(GREENVOLT, b"\r\n".join([header, huge, good, b""]))
    assert [r.sku for r in records] == [GREENVOLT_PANEL["sku"]]
    assert [(r.line, r.reason) for r in rejects] == [
        (2, "bad_value: csv: field larger than field limit (131072)")
    ]


@pytest.mark.parametrize("field", ["sku", "title", "brand", "model", "technology"])
def test_a_nul_character_rejects_its_row(field: str) -> None:
    """Postgres text cannot hold NUL: such a row, loaded, would fail the catalog write of every row."""
    damaged = csv_row(GREENVOLT, {**GREENVOLT_PANEL, "sku": "GV-NUL", field: "Mono\x00crystalline"})
    lines = [csv_row(GREENVOLT, GREENVOLT_PANEL), damaged, csv_row(GREENVOLT, GREENVOLT_INVERTER)]
    header = ",".join(header_order(GREENVOLT))
    data = "\r\n".join([header, *(csv_line(GREENVOLT, row) for row in lines), ""]).encode()
    records, rejects = parse(GREENVOLT, data)
    assert [r.sku for r in records] == [GREENVOLT_PANEL["sku"], GREENVOLT_INVERTER["sku"]]
    assert [(r.line, r.reason.split(":")[0]) for r in rejects] == [(3, "bad_value")]
