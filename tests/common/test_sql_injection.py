"""SQL injection: every text the stores write or look up, and every text parameter of the search,
recommend, quote and compatible endpoints, fed strings built to break out of a quoted literal. The text
is stored and read back as it is, nothing else changes, and the endpoints answer a clean 200/4xx.

Also a static guard over `common/*_store.py`: no SQL string interpolates a function's parameter (the
stores pass values as query parameters only), so a store added later is held to it too.
"""

from __future__ import annotations

import ast
import uuid
from collections.abc import Iterator
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest

from catalog.merge import offer_hash, product_hash
from common import postgres
from common.catalog_store import (
    catalog_for_index,
    catalog_load,
    record_rejects,
)
from common.document_store import DocumentReject, record_document_rejects
from common.offer_store import catalog_with_offers
from common.resources import Resources
from common.settings import PROJECT_ROOT, Settings
from common.tariff_store import (
    record_tariff_rejects,
    replace_residential_tariffs,
    residential_tariff,
    residential_tariffs_in_force,
    upsert_tariff_rows,
)
from kernel.schemas import Offer, Product, RejectedRow
from models.embedders import SentenceTransformerEmbedder
from samples.feeds.merged import merged_sample
from serve_app.kits import load_catalog_from_postgres
from serve_app.limits import LimitsOptions
from services.recommend import KitRecommender
from solar.tariffs import RejectedTariffRow, ResidentialTariff, TariffRow
from tests.conftest import new_database
from tests.serve_app.conftest import load_into_postgres
from tests.serve_app.local_app import indexed_store, local_api

INJECTIONS = [
    "'; DROP TABLE products; --",
    "Robert'); DROP TABLE offers; --",
    "x' OR '1'='1",
    '" OR ""="',
    "1; DELETE FROM offers WHERE true; --",
    "') ON CONFLICT DO NOTHING; TRUNCATE feed_rejects; --",
    "%s %(id)s {0} $1 \\' \\\\ ;",
    "$$; DROP TABLE job_runs; $$",
]
TABLES = ["products", "offers", "feed_rejects", "job_runs", "document_rejects", "aneel_tariffs",
          "tariff_rejects", "residential_tariffs"]  # fmt: skip
TODAY = date(2026, 11, 24)


def cnpj(text: str) -> str:
    return text[:14].ljust(14, "-")  # the column is char(14)


def counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    return {table: conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"] for table in TABLES}


@pytest.fixture
def conn(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    with postgres.connect(new_database(settings)) as conn:
        postgres.migrate(conn, "tariffs.sql", "documents.sql")
        yield conn


def hostile_catalog() -> tuple[list[Product], list[Offer]]:
    products = [
        Product(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, text)),
            category="module",
            brand=text,
            model=text,
            title=text,
            specs={"power_w": 550.0, "technology": text, text: text},
        )
        for text in INJECTIONS
    ]
    offers = [
        Offer(product_id=p.id, distributor=p.brand, sku=p.model, price_brl=1.0, stock=1, lead_time_days=1)
        for p in products
    ]
    return products, offers


def test_catalog_text_is_stored_as_written(conn: psycopg.Connection[Any]) -> None:
    products, offers = hostile_catalog()
    with catalog_load(conn) as load:
        load.add_products((p, product_hash(p)) for p in products)
        load.add_offers((o, o.sku, offer_hash(o, o.sku)) for o in offers)
        load.add_files_read((text, f"{text}-not-there") for text in INJECTIONS)
        write = load.apply()
    assert write.products_removed == 0
    assert {d: c["new"] for d, c in write.offers.items()} == dict.fromkeys(INJECTIONS, 1)
    stored = conn.execute("SELECT distributor, sku FROM offers").fetchall()
    assert {(row["distributor"], row["sku"]) for row in stored} == {(text, text) for text in INJECTIONS}
    all_offers = catalog_with_offers(conn, in_stock_only=False)[1]
    assert {o.sku: o.distributor for o in all_offers} == {t: t for t in INJECTIONS}
    read_products, read_offers = catalog_with_offers(conn)
    assert sorted(read_products, key=lambda p: p.id) == sorted(products, key=lambda p: p.id)
    assert len(read_offers) == len(INJECTIONS)
    assert sorted(row["brand"] for row in catalog_for_index(conn)) == sorted(INJECTIONS)
    assert counts(conn)["products"] == len(INJECTIONS)


def test_rejects_are_stored_as_written(conn: psycopg.Connection[Any]) -> None:
    run_id = postgres.start_job_run(conn, job=INJECTIONS[0])
    feed = [RejectedRow(distributor=t, source_file=t, line=1, raw=t, reason=t) for t in INJECTIONS]
    assert record_rejects(conn, rejects=feed, run_id=run_id) == len(INJECTIONS)
    documents = [
        DocumentReject(collection=t, source=t, content_hash=t, reason=t, detail=t) for t in INJECTIONS
    ]
    assert record_document_rejects(conn, rejects=documents, run_id=run_id) == len(INJECTIONS)
    tariffs = [RejectedTariffRow(line=1, raw=t, reason=t) for t in INJECTIONS]
    assert record_tariff_rejects(conn, rejects=tariffs, source=INJECTIONS[1], run_id=run_id) == len(
        INJECTIONS
    )
    postgres.finish_job_run(
        conn, run_id=run_id, status="ok", counts={t: 1 for t in INJECTIONS}, error=INJECTIONS[2]
    )
    stored = conn.execute("SELECT raw, reason, distributor FROM feed_rejects").fetchall()
    assert sorted(row["raw"] for row in stored) == sorted(INJECTIONS)
    assert all(row["raw"] == row["reason"] == row["distributor"] for row in stored)
    assert sorted(r["detail"] for r in conn.execute("SELECT detail FROM document_rejects")) == sorted(
        INJECTIONS
    )
    run = conn.execute("SELECT job, error, counts FROM job_runs WHERE id = %s", (run_id,)).fetchone()
    assert run == {"job": INJECTIONS[0], "error": INJECTIONS[2], "counts": {t: 1 for t in INJECTIONS}}
    assert counts(conn) | {"job_runs": 0} == dict.fromkeys(TABLES, 0) | {
        "feed_rejects": len(INJECTIONS),
        "document_rejects": len(INJECTIONS),
        "tariff_rejects": len(INJECTIONS),
    }


def tariff_row(text: str, line: int) -> TariffRow:
    return TariffRow(
        line=line, generated_on=TODAY, reh=text, agent=text, cnpj=cnpj(text), valid_from=date(2026, 1, 1),
        valid_to=date(2026, 12, 31), tariff_base=text, subgroup=text, modality=text, consumer_class=text,
        subclass=text, detail=text, time_slot=text, unit=text, accessing_agent=text, tusd=1.0, te=2.0,
    )  # fmt: skip


def test_tariff_text_is_stored_and_looked_up_as_written(conn: psycopg.Connection[Any]) -> None:
    run_id = postgres.start_job_run(conn, job="tariffs")
    rows = [tariff_row(text, n) for n, text in enumerate(INJECTIONS, start=1)]
    assert upsert_tariff_rows(conn, rows=rows, source=INJECTIONS[0], run_id=run_id).new == len(INJECTIONS)
    tariffs = [
        ResidentialTariff(cnpj=cnpj(t), agent=t, reh=t, valid_from=date(2026, 1, 1),
                          valid_to=date(2026, 12, 31), tusd_brl_kwh=0.3, te_brl_kwh=0.4)
        for t in INJECTIONS
    ]  # fmt: skip
    assert replace_residential_tariffs(conn, tariffs=tariffs, derived_on=TODAY) == len(INJECTIONS)
    for tariff in tariffs:
        assert residential_tariff(conn, on=TODAY, sigla=tariff.agent) == tariff
        assert residential_tariff(conn, on=TODAY, cnpj=tariff.cnpj) == tariff
    assert residential_tariff(conn, on=TODAY, sigla="nobody' OR '1'='1") is None
    assert set(residential_tariffs_in_force(conn, on=TODAY)) == {cnpj(t) for t in INJECTIONS}
    stored = conn.execute("SELECT reh, detail, source FROM aneel_tariffs").fetchall()
    assert sorted(row["detail"] for row in stored) == sorted(INJECTIONS)
    assert {row["source"] for row in stored} == {INJECTIONS[0]}


# ---------------------------------------------------------------- endpoints


@pytest.fixture(scope="module")
def shop(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory, minilm: SentenceTransformerEmbedder
) -> Iterator[tuple[Any, str]]:
    """The in-process app over a catalog in Postgres (the recommender loads it as the router does)."""
    from fastapi.testclient import TestClient

    dsn = new_database(settings)
    sample = merged_sample(tmp_path_factory.mktemp("sqli-feeds"), seed=7, products=80)
    load_into_postgres(dsn, sample)
    app_settings = settings.model_copy(update={"database_url": dsn})
    recommender = KitRecommender(
        load_catalog=partial(load_catalog_from_postgres, Resources(app_settings), 5),
        max_options=3,
        today=lambda: TODAY,
    )
    assert recommender.refresh()
    store = indexed_store(tmp_path_factory.mktemp("sqli-index"), minilm)
    unlimited = LimitsOptions(rate_per_s=1e9, burst=1_000_000_000)
    with TestClient(local_api(store, minilm, recommender, unlimited)) as client:
        yield client, dsn
    store.close()


def requests_with(text: str) -> list[tuple[str, str, dict[str, Any]]]:
    place = {"consumption_kwh_month": 500, "city": "São Paulo", "uf": "SP", "connection": "bi"}
    return [
        ("GET", "/store/helio/search", {"params": {"q": text}}),
        ("GET", "/store/helio/search", {"params": {"q": "inversor", "brand": text}}),
        ("GET", "/store/helio/search", {"params": {"q": "painel", "category": text}}),
        ("POST", "/store/helio/recommend", {"json": {**place, "city": text}}),
        ("POST", "/store/helio/recommend", {"json": {**place, "uf": text[:30]}}),
        ("POST", "/store/helio/recommend", {"json": {**place, "utility": text}}),
        ("POST", "/store/helio/recommend", {"json": {**place, "roof_type": text[:40]}}),
        ("POST", "/store/helio/quote", {"json": {"items": [{"product_id": text, "qty": 1}]}}),
        ("POST", "/store/helio/quote", {"json": {"items": [{"product_id": "x", "qty": 1}], "city": text}}),
        ("GET", f"/store/helio/products/{text}/compatible", {}),
        ("GET", "/store/helio/products/x/compatible", {"params": {"uf": text[:2]}}),
    ]  # fmt: skip


@pytest.mark.slow
def test_endpoints_answer_cleanly_and_the_data_is_intact(shop: tuple[Any, str]) -> None:
    client, dsn = shop
    with postgres.connect(dsn) as conn:
        before = conn.execute(
            "SELECT (SELECT count(*) FROM products) AS p, (SELECT count(*) FROM offers) AS o"
        )
        expected = before.fetchone()
    for text in INJECTIONS:
        for method, path, kwargs in requests_with(text):
            response = client.request(method, path, **kwargs)
            assert response.status_code in {200, 404, 422}, (path, kwargs, response.text)
            assert response.headers["content-type"] == "application/json"
    with postgres.connect(dsn) as conn:
        after = conn.execute(
            "SELECT (SELECT count(*) FROM products) AS p, (SELECT count(*) FROM offers) AS o"
        )
        assert after.fetchone() == expected
    response = client.get("/store/helio/search", params={"q": "painel"})
    assert response.status_code == 200 and response.json()["results"]


# ---------------------------------------------------------------- static guard

SQL_CALLS = {"execute", "executemany", "copy", "_rows", "_one"}


def interpolated_parameters(path: Path) -> list[str]:
    """`function: name` for each function parameter interpolated into an f-string or %-formatted SQL."""
    found = []
    for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        arguments = function.args
        parameters = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}
        for call in ast.walk(function):
            if not isinstance(call, ast.Call):
                continue
            name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            if name not in SQL_CALLS:
                continue
            for argument in call.args[:2]:
                built = argument if isinstance(argument, ast.JoinedStr | ast.BinOp) else None
                if built is None:
                    continue
                names = {node.id for node in ast.walk(built) if isinstance(node, ast.Name)}
                found += [f"{function.name}: {name}" for name in sorted(names & parameters)]
    return found


@pytest.mark.parametrize("path", sorted((PROJECT_ROOT / "common").glob("*_store.py")), ids=lambda p: p.name)
def test_stores_never_interpolate_their_parameters_into_sql(path: Path) -> None:
    assert interpolated_parameters(path) == []


def test_the_guard_sees_an_interpolated_parameter(tmp_path: Path) -> None:
    store = tmp_path / "bad_store.py"
    store.write_text(
        "def find(conn, *, name):\n"
        "    conn.execute(f\"SELECT * FROM t WHERE name = '{name}'\")\n"
        "    conn.execute(\"SELECT * FROM t WHERE name = '%s'\" % name)\n"
        '    conn.execute("SELECT * FROM t WHERE name = %s", (name,))\n'
    )
    assert interpolated_parameters(store) == ["find: name", "find: name"]
