"""Postgres restarted in the middle of the catalog ETL's load: the run fails cleanly (its one transaction,
staging, rejects and writes, rolled back, its job_runs row marked failed), and a re-run leaves exactly the
catalog of one clean run.

The fault database is a pgserver of this module's own, so it can be restarted without touching the
session's; the clean run goes to a fresh database on the session's server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pgserver
import psycopg
import pytest
from pgserver._commands import pg_ctl

from common import catalog_store
from common.resources import Resources
from common.settings import Settings
from ray_jobs.catalog_etl import CatalogEtlConfig, EtlReport, run
from tests.conftest import new_database

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_session")]

# The run ids differ between the two databases by construction; every other column must match.
CATALOG_QUERIES = {
    "products": "SELECT id, category, brand, model, title, specs, row_hash FROM products ORDER BY id",
    "offers": "SELECT distributor, sku, product_id, source_file, price_brl, stock, lead_time_days, row_hash "
    "FROM offers ORDER BY distributor, sku",
    "feed_rejects": "SELECT distributor, source_file, line, raw, reason, raw_hash FROM feed_rejects "
    "ORDER BY distributor, source_file, line, raw_hash, reason",
}


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[pgserver.PostgresServer]:
    server = pgserver.get_server(tmp_path / "postgres", cleanup_mode="stop")
    yield server
    server.cleanup()
    # `pg_ctl restart` started a postmaster pgserver does not know of: stop it too, or it outlives the suite.
    with contextlib.suppress(Exception):
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from samples.feeds import write_sample

    out = tmp_path_factory.mktemp("restart_feeds")
    write_sample(out, seed=11, products=120)
    return out


def etl(settings: Settings, feeds: Path) -> EtlReport:
    return run(CatalogEtlConfig(source=str(feeds), feeds_config=settings.feeds_config), Resources(settings))


def catalog_state(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(dsn) as conn:
        return {table: conn.execute(sql).fetchall() for table, sql in CATALOG_QUERIES.items()}


def job_runs(dsn: str) -> list[tuple[str, str | None]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT status, error FROM job_runs ORDER BY id").fetchall()
    return [(status, error) for status, error in rows]


def test_restart_mid_write_fails_cleanly_and_a_rerun_equals_one_clean_run(
    restartable: pgserver.PostgresServer,
    settings: Settings,
    feeds: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    faulty = settings.model_copy(update={"database_url": restartable.get_uri(), "data_dir": tmp_path / "a"})
    clean = settings.model_copy(update={"database_url": new_database(settings), "data_dir": tmp_path / "b"})
    add_products = catalog_store.CatalogLoad.add_products

    def restart_halfway(
        load: catalog_store.CatalogLoad, products: Iterable[catalog_store.ProductRow]
    ) -> None:
        # Listings, rejects and half the products staged when Postgres restarts: one transaction.
        staged = list(products)
        add_products(load, staged[: len(staged) // 2])
        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=restartable.pgdata, user=restartable.system_user)
        add_products(load, staged[len(staged) // 2 :])

    monkeypatch.setattr(catalog_store.CatalogLoad, "add_products", restart_halfway)
    with pytest.raises(psycopg.OperationalError):
        etl(faulty, feeds)
    monkeypatch.undo()

    assert restartable.get_uri() == faulty.database_url  # the same server, up again
    assert {table: len(rows) for table, rows in catalog_state(faulty.database_url).items()} == dict.fromkeys(
        CATALOG_QUERIES, 0
    )  # the rejects kept before the restart were rolled back with the rest
    [(status, error)] = job_runs(faulty.database_url)
    assert status == "failed" and error is not None
    assert error.startswith(("OperationalError", "AdminShutdown"))  # the connection lost, by either name

    rerun = etl(faulty, feeds)
    clean_run = etl(clean, feeds)

    assert rerun.per_distributor == clean_run.per_distributor
    assert clean.database_url is not None
    expected = catalog_state(clean.database_url)
    assert all(expected.values())
    assert catalog_state(faulty.database_url) == expected
    assert [status for status, _ in job_runs(faulty.database_url)] == ["failed", "succeeded"]
