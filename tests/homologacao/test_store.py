"""Cases and check results in a real Postgres (pgserver)."""

from __future__ import annotations

from common import homologacao_store as store
from common import postgres
from common.embedded import postgres_dsn
from common.settings import Settings
from samples.homologacao_cases import VARIANTS, variant_package
from tests.homologacao.conftest import text_package


def test_cases_checks_and_what_the_erp_has_not_accepted(fresh_settings: Settings) -> None:
    package = text_package()
    case = package.case.model_copy(update={"case_id": "pedido-1", "order_id": "PED-1"})
    result = package.check().model_copy(update={"case_id": "pedido-1"})
    with postgres.connect(postgres_dsn(fresh_settings)) as conn:
        postgres.migrate(conn, store.SCHEMA)
        postgres.migrate(conn, store.SCHEMA)  # idempotent
        assert store.open_case(conn, case=case, documents="/docs/PED-1")
        assert not store.open_case(conn, case=case)  # opened once
        assert store.orders_with_cases(conn, order_ids=["PED-1", "PED-2"]) == {"PED-1"}
        assert store.case_status(conn, case_id="pedido-1") is None

        first = store.record_check(conn, result=result)
        second = store.record_check(conn, result=result)
        assert store.case_status(conn, case_id="pedido-1") == "approved"
        [unsent] = store.unsent_checks(conn)  # only the latest check of a case is sent
        assert (unsent.id, unsent.order_id) == (second, "PED-1")
        assert unsent.result == result

        store.mark_sent(conn, check_id=second, error="ERP 503")
        assert [c.id for c in store.unsent_checks(conn)] == [second]
        store.mark_sent(conn, check_id=second)
        assert store.unsent_checks(conn) == []
        row = conn.execute("SELECT count(*) AS n FROM homologacao_checks").fetchone()
        assert row is not None and row["n"] == 2 and first < second


def test_a_case_sent_by_hand_has_no_order(fresh_settings: Settings) -> None:
    package = variant_package(VARIANTS[0])
    with postgres.connect(postgres_dsn(fresh_settings)) as conn:
        postgres.migrate(conn, store.SCHEMA)
        assert store.open_case(conn, case=package.case)
        result = text_package().check().model_copy(update={"case_id": package.case.case_id})
        store.record_check(conn, result=result)
        assert store.unsent_checks(conn) == []  # nothing to tell the ERP
