"""The ERP sync job against the simulator (a stand-in for the proprietary ERP) and the real Postgres:
counts and rejects, watermark resume after a crash (ending where one clean run ends), the outbox
sending each order once across a crash, and the idle job without ERP_URL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr

from common import erp_store, postgres
from common.erp_client import ErpClient, RetryPolicy
from common.resources import Resources
from common.settings import Settings
from erp.records import ErpOrder
from ray_jobs import erp_sync
from ray_jobs.erp_sync import ErpSyncConfig, run
from tests.erp.conftest import BAD_IDS, TOKEN, erp_database, id_refusal
from tests.erp_simulator import EPOCH, ErpSimulator

PAGE = ErpSyncConfig(page_size=2)


def client(url: str) -> ErpClient:
    return ErpClient(url, token=TOKEN, timeout_s=5, retry=RetryPolicy(attempts=2), sleep=lambda _: None)


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with postgres.connect(settings.database_url or "") as conn:
        return [tuple(row.values()) for row in conn.execute(sql).fetchall()]


STATE = {
    "offers": "SELECT distributor, sku, price_brl, stock FROM offers ORDER BY 1, 2",
    "erp_products": "SELECT distributor, sku, stock, version FROM erp_products ORDER BY 1, 2",
    "price_lists": "SELECT distributor, sku, price_list, price_brl, version FROM price_lists ORDER BY 1,2,3",
    "rejects": "SELECT kind, record_key, reason FROM erp_rejects ORDER BY 1, 2, 3",
    "watermarks": "SELECT stream, updated_since FROM erp_watermarks ORDER BY 1",
}


def state(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """What a sync leaves behind, without the wall-clock columns."""
    return {name: rows(settings, sql) for name, sql in STATE.items()}


def erp_catalog(erp: ErpSimulator) -> None:
    """Six changes in the ERP: three offers the catalog has (SS-1 twice), one it lacks, one invalid."""
    erp.put_product("Solar Sul", "SS-1", stock=5, prices={"B1": "120.00", "B3": "110.00"})
    erp.put_product("Solar Sul", "SS-2", stock=0, prices={"B3": "80.00"})
    erp.put_product("Luz Norte", "LN-1", stock=9, prices={"B1": "100.00"})  # same price as the catalog's
    erp.put_product("Solar Sul", "GHOST", stock=1, prices={"B1": "1.00"})
    erp.put("products", "Solar Sul/BAD", {"distributor": "Solar Sul", "sku": "BAD", "stock": -3})
    erp.put_product("Solar Sul", "SS-1", stock=4, prices={"B1": "119.90", "B3": "110.00"})


def test_products_sync_counts_rejects_and_changed_prices(
    erp_url: str, erp: ErpSimulator, erp_settings: Settings
) -> None:
    erp_catalog(erp)
    report = run("products", Resources(erp_settings), config=PAGE, client=client(erp_url))
    products = report.streams["products"]
    assert (products.status, products.read, products.written, products.rejected) == ("succeeded", 5, 3, 2)
    assert products.changed_prices == [("Solar Sul", "SS-1")]
    assert state(erp_settings)["offers"] == [
        ("Luz Norte", "LN-1", Decimal("100.00"), 9),
        ("Solar Sul", "SS-1", Decimal("119.90"), 4),
        ("Solar Sul", "SS-2", Decimal("100.00"), 0),  # only a B3 price: the offer keeps its B1 price
    ]
    assert [r[:2] for r in state(erp_settings)["rejects"]] == [
        ("product", "Solar Sul/GHOST"),
        ("products", "Solar Sul/BAD"),
    ]
    assert "stock" in state(erp_settings)["rejects"][1][2]
    runs = rows(erp_settings, "SELECT job, status, counts FROM job_runs WHERE job LIKE 'erp_sync%'")
    assert [(job, status) for job, status, _ in runs] == [("erp_sync.products", "succeeded")]
    assert {k: runs[0][2][k] for k in ("read", "written", "rejected")} == {
        "read": 5,
        "written": 3,
        "rejected": 2,
    }

    again = run("products", Resources(erp_settings), config=PAGE, client=client(erp_url)).streams["products"]
    assert (again.written, again.changed_prices) == (0, [])  # the watermark's instant is read again, a no-op


@pytest.mark.parametrize("crash", ["erp_down", "store_crash"])
def test_a_crashed_sync_resumes_to_the_state_of_one_clean_run(
    erp_url: str, erp: ErpSimulator, settings: Settings, crash: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    erp_catalog(erp)
    erp.faults.duplicate_pages = erp.faults.out_of_order = True
    clean = erp_database(settings)
    assert run("products", Resources(clean), config=PAGE, client=client(erp_url)).ok
    erp.reset()
    erp_catalog(erp)
    erp.faults.duplicate_pages = erp.faults.out_of_order = True

    crashed = erp_database(settings)
    if crash == "erp_down":  # the ERP stops answering after two pages
        erp.faults.down_after = 2
        report = run("products", Resources(crashed), config=PAGE, client=client(erp_url)).streams["products"]
        assert report.status == "failed" and "503" in (report.error or "")
        erp.faults.down_after = None
    else:  # the process dies after applying page 2's rows, before its watermark moves
        moves = {"n": 0}
        real_move = erp_store.move_watermark

        def dies_on_second_page(conn: Any, *, stream: str, updated_since: Any) -> None:
            moves["n"] += 1
            if moves["n"] == 2:
                raise RuntimeError("killed")
            real_move(conn, stream=stream, updated_since=updated_since)

        monkeypatch.setattr(erp_store, "move_watermark", dies_on_second_page)
        with pytest.raises(RuntimeError, match="killed"):
            run("products", Resources(crashed), config=PAGE, client=client(erp_url))
        monkeypatch.setattr(erp_store, "move_watermark", real_move)
    partial = state(crashed)
    assert partial["watermarks"] and partial != state(clean)  # one page is stored, with its watermark

    assert run("products", Resources(crashed), config=PAGE, client=client(erp_url)).ok
    assert state(crashed) == state(clean)
    statuses = rows(crashed, "SELECT status FROM job_runs WHERE job = 'erp_sync.products' ORDER BY id")
    assert statuses == [("failed",), ("succeeded",)]


def placed(order_id: str) -> ErpOrder:
    return ErpOrder.model_validate(
        {
            "order_id": order_id,
            "status": "placed",
            "customer_name": "Ana",
            "updated_at": EPOCH,
            "version": 1,
            "items": [{"sku": "SS-1", "distributor": "Solar Sul", "quantity": 12}],
            "total_brl": "1438.80",
            "consumer_unit": {"number": "3001", "utility": "CEMIG-D", "connection": "bifasico", "uf": "MG"},
        }
    )


def test_the_outbox_sends_each_order_once_across_a_crash(
    erp_url: str, erp: ErpSimulator, erp_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with postgres.connect(erp_settings.database_url or "") as conn:
        keys = [erp_store.place_order(conn, placed(order_id)) for order_id in ("A-1", "B-2")]
    real_mark = erp_store.mark_sent

    def dies_after_the_erp_accepted(conn: Any, *, key: str, erp_order_id: str) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(erp_store, "mark_sent", dies_after_the_erp_accepted)
    with pytest.raises(RuntimeError, match="killed"):
        run("orders", Resources(erp_settings), client=client(erp_url))
    assert len(erp.created) == 1  # the ERP has A-1; our outbox still says pending
    monkeypatch.setattr(erp_store, "mark_sent", real_mark)

    erp.faults.accept_then_fail = 1  # and the next reply is lost too: retried with the same key
    report = run("orders", Resources(erp_settings), client=client(erp_url)).streams["orders"]
    assert (report.status, report.sent) == ("succeeded", 2)
    assert sorted(erp.created) == sorted(keys)
    assert rows(erp_settings, "SELECT status, erp_order_id FROM order_outbox ORDER BY id") == [
        ("sent", erp.created[keys[0]]["erp_order_id"]),
        ("sent", erp.created[keys[1]]["erp_order_id"]),
    ]

    erp.put(
        "orders", "A-1", {**placed("A-1").model_dump(mode="json"), "status": "paid", "erp_order_id": "ERP-1"}
    )
    again = run("orders", Resources(erp_settings), client=client(erp_url)).streams["orders"]
    assert (again.sent, again.written) == (0, 1)
    assert rows(erp_settings, "SELECT order_id, status, version FROM orders ORDER BY 1") == [
        ("A-1", "paid", 2),
        ("B-2", "placed", 1),
    ]


def test_an_order_the_erp_refuses_is_kept_failed_with_its_error(
    erp_url: str, erp: ErpSimulator, erp_settings: Settings
) -> None:
    with postgres.connect(erp_settings.database_url or "") as conn:
        erp_store.place_order(conn, placed("A-1"))
    erp.faults.errors, erp.faults.error_status = 1, 422
    report = run("orders", Resources(erp_settings), client=client(erp_url)).streams["orders"]
    assert (report.status, report.rejected, report.sent) == ("succeeded", 1, 0)
    [(status, error)] = rows(erp_settings, "SELECT status, last_error FROM order_outbox")
    assert status == "failed" and "422" in error and not erp.created


def test_homologacao_status_arrives_in_version_order(
    erp_url: str, erp: ErpSimulator, erp_settings: Settings
) -> None:
    for status in ("pending", "submitted", "approved"):
        erp.put("homologacao", "A-1", {"order_id": "A-1", "status": status, "detail": f"{status} na CEMIG"})
    erp.faults.out_of_order = True
    report = run("homologacao", Resources(erp_settings), client=client(erp_url)).streams["homologacao"]
    assert (report.read, report.written, report.unchanged) == (2, 1, 1)  # the older copy is a no-op
    assert rows(erp_settings, "SELECT status, version FROM homologacao_status") == [("approved", 3)]


def test_all_streams_from_the_settings(erp_url: str, erp: ErpSimulator, erp_settings: Settings) -> None:
    configured = erp_settings.model_copy(
        update={"erp_url": erp_url, "erp_token": SecretStr(TOKEN), "job_submission_id": "raysubmit_1"}
    )
    report = run("all", Resources(configured))
    assert report.ok and list(report.streams) == ["products", "orders", "homologacao"]
    assert rows(erp_settings, "SELECT job, submission_id FROM job_runs ORDER BY id") == [
        ("erp_sync.products", "raysubmit_1"),
        ("erp_sync.orders", "raysubmit_1"),
        ("erp_sync.homologacao", "raysubmit_1"),
    ]


def test_without_erp_url_the_job_is_idle(
    erp_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(erp_sync, "get_settings", lambda: erp_settings)
    assert erp_sync.main(["all"]) == 0
    assert "idle" in capsys.readouterr().err
    assert rows(erp_settings, "SELECT job, status FROM job_runs ORDER BY id") == [
        ("erp_sync.products", "skipped"),
        ("erp_sync.orders", "skipped"),
        ("erp_sync.homologacao", "skipped"),
    ]


def test_records_whose_order_id_is_no_plain_id_are_rejected_with_the_reason(
    erp_url: str, erp: ErpSimulator, erp_settings: Settings
) -> None:
    for order_id in ("A-1", *BAD_IDS.values()):
        erp.put("orders", order_id, {"order_id": order_id, "status": "placed"})
        erp.put("homologacao", order_id, {"order_id": order_id, "status": "submitted"})
    report = run("all", Resources(erp_settings), client=client(erp_url))
    for stream in ("orders", "homologacao"):
        counts = report.streams[stream]
        assert (counts.status, counts.read, counts.written, counts.rejected) == (
            "succeeded", 1 + len(BAD_IDS), 1, len(BAD_IDS)
        ), stream  # fmt: skip
    assert rows(erp_settings, "SELECT order_id FROM orders") == [("A-1",)]
    assert rows(erp_settings, "SELECT order_id FROM homologacao_status") == [("A-1",)]
    rejects = rows(erp_settings, "SELECT kind, record_key, reason FROM erp_rejects")
    assert sorted(rejects) == sorted(
        (stream, bad.replace("\x00", "\ufffd"), id_refusal(bad))  # Postgres text holds no NUL
        for stream in ("orders", "homologacao")
        for bad in BAD_IDS.values()
    )


def test_an_outbox_order_stored_before_ids_were_checked_fails_alone(
    erp_url: str, erp: ErpSimulator, erp_settings: Settings
) -> None:
    with postgres.connect(erp_settings.database_url or "") as conn:
        # model_copy does not validate: the order as it could be placed before ids were checked
        erp_store.place_order(conn, placed("A-1").model_copy(update={"order_id": "../../admin"}))
        erp_store.place_order(conn, placed("B-2"))
    report = run("orders", Resources(erp_settings), client=client(erp_url)).streams["orders"]
    assert (report.status, report.sent, report.rejected) == ("succeeded", 1, 1)
    assert erp.requests.count("POST /orders") == 1 and len(erp.created) == 1
    assert rows(erp_settings, "SELECT order_id, status, last_error FROM order_outbox ORDER BY id") == [
        ("../../admin", "failed", id_refusal("../../admin")),
        ("B-2", "sent", None),
    ]
