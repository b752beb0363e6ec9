"""The homologacao-ai workflow end to end: orders placed through `erp_store.apply_order` (what the ERP sync
and the Kafka consumer call) → cases opened and checked from each order's documents → results in
Postgres → statuses posted to the ERP simulator (`tests/erp_simulator.py`: the real ERP is proprietary)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from common import erp_store, postgres
from common import homologacao_store as store
from common.erp_client import ErpClient, RetryPolicy
from common.resources import Resources
from common.settings import Settings
from erp.records import ConsumerUnit, ErpOrder, OrderItem
from homologacao.case import Equipment
from homologacao.config import HomologacaoConfig
from kernel.schemas import Offer, Product
from ray_jobs import homologacao_ai as job
from ray_jobs.homologacao_ai import JOB_NAME, HomologacaoJobConfig, run
from samples.homologacao_cases import VARIANTS, default_system, variant_package
from tests.conftest import new_database, store_catalog
from tests.erp.conftest import BAD_IDS, TOKEN, erp, erp_url, id_refusal  # noqa: F401  (fixtures)
from tests.erp_simulator import ErpSimulator

UNIT = ConsumerUnit(number="3001234567", utility="ENEL CE", connection="monofasico", uf="CE")
PLACED_AT = datetime(2026, 11, 20, 10, tzinfo=UTC)


def _product(equipment: Equipment) -> Product:
    specs = {
        k: v for k, v in equipment.model_dump(include={"power_w", "ac_voltage_v", "phases"}).items() if v
    }
    return Product(
        id=equipment.product_id,
        category=equipment.category,  # type: ignore[arg-type]
        brand=equipment.brand,
        model=equipment.model,
        title=f"{equipment.brand} {equipment.model}",
        specs=specs,
    )


@pytest.fixture
def job_settings(settings: Settings, tmp_path: Path) -> Settings:
    """A new database with the sample system's module and inverter in the catalog."""
    fresh = settings.model_copy(update={"database_url": new_database(settings), "data_dir": tmp_path})
    system = default_system()
    products = [_product(system.module), _product(system.inverter)]
    offers = [
        (Offer(product_id=p.id, distributor="Sul", sku=f"S-{n}", price_brl=100.0, stock=5, lead_time_days=2),
         "feed.csv", f"hash-{n}")
        for n, p in enumerate(products)
    ]  # fmt: skip
    with postgres.connect(fresh.database_url or "") as conn:
        postgres.migrate(conn, erp_store.SCHEMA, store.SCHEMA)
        store_catalog(conn, products=[(p, f"p-{p.id}") for p in products], offers=offers)
    return fresh


def _order(order_id: str, *, status: str = "placed", unit: ConsumerUnit | None = UNIT) -> ErpOrder:
    system = default_system()
    items = [
        OrderItem(product_id=system.module.product_id, quantity=system.module_count),
        OrderItem(product_id=system.inverter.product_id, quantity=system.inverter_count),
        OrderItem(sku="CABO-6MM", quantity=50),  # not in the catalog: no part of the case
    ]
    return ErpOrder(
        order_id=order_id, status=status, consumer_unit=unit, items=items, updated_at=PLACED_AT, version=1
    )


def _place(settings: Settings, order: ErpOrder) -> None:
    with postgres.connect(settings.database_url or "") as conn:
        erp_store.apply_order(conn, order)


def _documents(root: Path, order_id: str, variant: str) -> None:
    folder = root / order_id
    folder.mkdir(parents=True)
    package = variant_package(next(v for v in VARIANTS if v.name == variant))
    for name, data in package.files.items():
        (folder / name).write_bytes(data)
    (folder / "case.json").write_text(package.case_json(), encoding="utf-8")  # metadata: ignored


@pytest.fixture
def client(erp_url: str) -> Iterator[ErpClient]:  # noqa: F811
    with ErpClient(erp_url, token=TOKEN, timeout_s=5, retry=RetryPolicy(attempts=1)) as erp_client:
        yield erp_client


def _sent(simulator: ErpSimulator) -> dict[str, str]:
    return {check["order_id"]: check["status"] for check in simulator.checks.values()}


def test_placed_orders_are_checked_stored_and_sent_to_the_erp(
    job_settings: Settings,
    client: ErpClient,
    erp: ErpSimulator,  # noqa: F811
    tmp_path: Path,
) -> None:
    docs = tmp_path / "homologacao"
    _place(job_settings, _order("PED-1"))
    _documents(docs, "PED-1", "completo")
    _place(job_settings, _order("PED-2"))
    _documents(docs, "PED-2", "potencia_divergente")
    _place(job_settings, _order("PED-3"))  # its documents come later
    _place(job_settings, _order("PED-4", unit=None))  # cannot make a case
    _documents(docs, "PED-4", "completo")
    _place(job_settings, _order("PED-5", status="quote"))  # not placed
    config = HomologacaoJobConfig(documents=str(docs))

    report = run(config, Resources(job_settings), client)
    assert (report.read, report.written, report.rejected, report.waiting) == (4, 2, 1, 1)
    assert report.statuses == {"approved": 1, "rejected": 1}
    assert (report.sent, report.send_failed) == (2, 0)
    assert _sent(erp) == {"PED-1": "approved", "PED-2": "rejected"}
    [check] = [c for c in erp.checks.values() if c["order_id"] == "PED-2"]
    failing = [item for item in check["items"] if not item["ok"]]
    assert [item["name"] for item in failing] == ["concordancia_potencia"] and failing[0]["fix"]

    with postgres.connect(job_settings.database_url or "") as conn:
        assert store.case_status(conn, case_id="pedido-PED-1") == "approved"
        assert store.unsent_checks(conn) == []
        reject = conn.execute(
            "SELECT record_key, reason FROM erp_rejects WHERE kind = 'homologacao'"
        ).fetchone()
        assert reject == {"record_key": "PED-4", "reason": "the order has no consumer unit"}
        run_row = conn.execute(
            "SELECT status, counts FROM job_runs WHERE job = %s ORDER BY id DESC LIMIT 1", (JOB_NAME,)
        ).fetchone()
        assert run_row is not None and run_row["status"] == "succeeded"
        assert {k: run_row["counts"][k] for k in ("read", "written", "rejected")} == {
            "read": 4, "written": 2, "rejected": 1
        }  # fmt: skip

    again = run(config, Resources(job_settings), client)  # idempotent: nothing checked or sent twice
    assert (again.read, again.written, again.sent) == (2, 0, 0)
    assert len(erp.checks) == 2

    _documents(docs, "PED-3", "completo")
    later = run(config, Resources(job_settings), client)
    assert (later.written, later.sent) == (1, 1)
    assert _sent(erp)["PED-3"] == "approved"


def test_a_status_the_erp_could_not_take_is_sent_by_the_next_run(
    job_settings: Settings,
    client: ErpClient,
    erp: ErpSimulator,  # noqa: F811
    tmp_path: Path,
) -> None:
    docs = tmp_path / "homologacao"
    _place(job_settings, _order("PED-9"))
    _documents(docs, "PED-9", "completo")
    config = HomologacaoJobConfig(documents=str(docs))
    erp.faults.errors = 1
    first = run(config, Resources(job_settings), client)
    assert (first.written, first.sent, first.send_failed) == (1, 0, 1)
    with postgres.connect(job_settings.database_url or "") as conn:
        [unsent] = store.unsent_checks(conn)
        error: Any = conn.execute(
            "SELECT send_error FROM homologacao_checks WHERE id = %s", (unsent.id,)
        ).fetchone()
        assert "500" in error["send_error"]
    second = run(config, Resources(job_settings), client)
    assert (second.written, second.sent, second.send_failed) == (0, 1, 0)
    assert _sent(erp) == {"PED-9": "approved"}


def test_without_an_erp_the_checks_wait_to_be_sent(job_settings: Settings, tmp_path: Path) -> None:
    docs = tmp_path / "homologacao"
    _place(job_settings, _order("PED-7"))
    _documents(docs, "PED-7", "completo")
    report = run(HomologacaoJobConfig(documents=str(docs)), Resources(job_settings), None)
    assert (report.written, report.sent) == (1, 0)
    with postgres.connect(job_settings.database_url or "") as conn:
        assert [c.order_id for c in store.unsent_checks(conn)] == ["PED-7"]


def test_the_command_line_reads_documents_under_the_data_dir(
    job_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _place(job_settings, _order("PED-8"))
    _documents(job_settings.data_dir / "homologacao", "PED-8", "completo")  # the default location
    monkeypatch.setattr(job, "get_settings", lambda: job_settings.model_copy(update={"erp_url": None}))
    assert job.main([]) == 0
    err = capsys.readouterr().err
    assert "ERP_URL is not set" in err and "1 checked {'approved': 1}" in err


@pytest.mark.parametrize(
    "order_id", ["../..", "..", ".", "", "/etc/passwd", "a/b", "../outside", "PED-1/../../outside"]
)
@pytest.mark.parametrize("documents", ["homologacao", "s3://bucket/homologacao/"])
def test_an_order_folder_is_right_under_the_documents_root(
    order_id: str, documents: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="names no folder right under"):
        job.order_folder(documents, order_id, Settings(base_dir=tmp_path))


def test_an_order_folder_that_links_out_of_the_root_is_refused(tmp_path: Path) -> None:
    settings = Settings(base_dir=tmp_path)
    root = tmp_path / "homologacao"
    root.mkdir()
    (root / "PED-1").symlink_to(tmp_path)
    assert job.order_folder("homologacao", "PED-2", settings) == str(root / "PED-2")
    assert job.order_folder("s3://bucket/homologacao/", "PED-2", settings) == "s3://bucket/homologacao/PED-2"
    with pytest.raises(ValueError, match="names no folder right under"):
        job.order_folder("homologacao", "PED-1", settings)


def test_orders_stored_before_ids_were_checked_are_rejected_and_nothing_outside_is_read(
    job_settings: Settings, tmp_path: Path
) -> None:
    docs = tmp_path / "homologacao"
    _place(job_settings, _order("PED-1"))
    _documents(docs, "PED-1", "completo")
    # Postgres text holds no NUL: those ids could never have been stored.
    unchecked = [order_id for order_id in (*BAD_IDS.values(), "../outside") if "\x00" not in order_id]
    for order_id in unchecked:  # model_copy does not validate: a row as the ERP sync wrote it before
        _place(job_settings, _order("PED-0").model_copy(update={"order_id": order_id}))
    _documents(tmp_path, "outside", "completo")  # what `../outside` would have read
    _documents(docs, "a/b", "completo")

    report = run(HomologacaoJobConfig(documents=str(docs)), Resources(job_settings), None)
    assert (report.written, report.rejected, report.waiting) == (1, len(unchecked), 0)
    with postgres.connect(job_settings.database_url or "") as conn:
        cases = conn.execute("SELECT order_id, documents FROM homologacao_cases").fetchall()
        rejects = conn.execute(
            "SELECT record_key, reason FROM erp_rejects WHERE kind = 'homologacao'"
        ).fetchall()
    assert cases == [{"order_id": "PED-1", "documents": str(docs / "PED-1")}]
    assert {row["record_key"]: row["reason"] for row in rejects} == {
        order_id: id_refusal(order_id) for order_id in unchecked
    }


def test_a_check_of_an_order_id_stored_before_ids_were_checked_is_never_sent(
    job_settings: Settings,
    client: ErpClient,
    erp: ErpSimulator,  # noqa: F811
) -> None:
    package = variant_package(VARIANTS[0])
    with postgres.connect(job_settings.database_url or "") as conn:
        case = package.case.model_copy(update={"case_id": "pedido-x", "order_id": "../../admin"})
        store.open_case(conn, case=case)  # model_copy does not validate: a case stored before the check
        result = job.check_case(
            package.case, package.catalog, list(package.files.items()), HomologacaoConfig()
        )
        store.record_check(conn, result=result.model_copy(update={"case_id": "pedido-x"}))
    report = run(HomologacaoJobConfig(documents="unused"), Resources(job_settings), client)
    assert (report.sent, report.send_failed) == (0, 1)
    assert erp.requests == []
    with postgres.connect(job_settings.database_url or "") as conn:
        row: Any = conn.execute("SELECT send_error, sent_at FROM homologacao_checks").fetchone()
    assert "'../../admin' is not an id" in row["send_error"] and row["sent_at"] is None
