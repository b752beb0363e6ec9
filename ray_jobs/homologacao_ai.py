"""homologacao-ai: a case for each newly placed order, checked, stored, and its status sent to the ERP.

    python -m ray_jobs.homologacao_ai
    python -m ray_jobs.homologacao_ai --documents s3://bucket/homologacao --no-send
    ray job submit --working-dir . -- python -m ray_jobs.homologacao_ai

Orders come from the `orders` table, which both the ERP sync and the Kafka order consumer fill
(`common.erp_store.apply_order` sets `placed_at` the first time an order shows placed). Each placed
order without a case is turned into one (`homologacao.orders.case_from_order`), its documents are read
from `<documents>/<order_id>/` (PDF or text; JSON metadata next to them is ignored), checked with the
same rules as the endpoint (patterns only: no chat engine in a batch job), stored, and committed one
order at a time. An order whose folder has no document yet is left for a later run; one that cannot
make a case (no consumer unit, no catalog module or inverter), or whose id cannot name a folder right
under the documents root, goes to `erp_rejects` with its reason.
Then every stored check the ERP has not accepted yet is posted through `ErpClient`, so a run that
crashed, or an ERP that was down, is caught up by the next run without checking again.

Why no Ray Data: a run handles the orders placed since the last one (a handful, each a few PDFs read
in milliseconds) against one Postgres connection; spreading them over workers would cost more than
the work. It runs the same under `ray job submit`, on the head node.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from common import erp_store, postgres
from common import homologacao_store as store
from common.embedded import join_cluster_for_metrics
from common.erp_client import ErpClient, ErpError
from common.offer_store import catalog_with_offers
from common.resources import Resources
from common.settings import Settings, get_settings
from common.storage import ObjectStore
from erp.records import ErpOrder, rejection_reason
from homologacao.case import Case, Equipment, equipment_from_specs
from homologacao.check import CheckResult, check_package, read_package
from homologacao.config import HomologacaoConfig
from homologacao.items import Item
from homologacao.orders import case_from_order
from ray_jobs.progress import say
from ray_jobs.runner import job_run

JOB_NAME = "homologacao-ai"
REJECT_KIND = "homologacao"


class HomologacaoJobConfig(BaseModel):
    documents: str = Field(description="Folder or s3:// URI with one subfolder of documents per order id.")
    send: bool = Field(default=True, description="Post each check's status to the ERP (needs ERP_URL).")
    check: HomologacaoConfig = Field(default_factory=HomologacaoConfig, description="The rules' numbers.")


class HomologacaoJobReport(BaseModel):
    run_id: int
    read: int = Field(description="Placed orders without a case.")
    written: int = Field(description="Cases opened and checked.")
    rejected: int = Field(description="Orders that make no case, or name no folder (kept in erp_rejects).")
    waiting: int = Field(description="Orders whose documents are not there yet.")
    sent: int = Field(description="Check statuses the ERP accepted.")
    send_failed: int = Field(description="Check statuses left for the next run.")
    statuses: dict[str, int] = Field(description="Checks written, by status.")


def load_catalog(conn: Any) -> dict[str, Equipment]:
    products, _ = catalog_with_offers(conn, in_stock_only=False)
    return {p.id: equipment_from_specs(p.id, p.category, p.brand, p.model, p.specs) for p in products}


def order_folder(documents: str, order_id: str, settings: Settings) -> str:
    """`<documents>/<order_id>`, or ValueError when that is not a folder right under the documents root.
    Order ids are checked where they enter (`erp.records.ExternalId`); this checks the path itself, so
    neither an id stored before that check nor a link in the folder makes the job read elsewhere."""
    root = documents.rstrip("/")
    if root.startswith("s3://"):
        # S3 keys hold no `..` and no links: the id only has to be one whole key segment
        inside = order_id not in ("", ".", "..") and "/" not in order_id
        folder = f"{root}/{order_id}"
    else:
        base = Path(settings.resolve(root)).resolve()
        resolved = (base / order_id).resolve()
        inside = resolved.parent == base
        folder = str(resolved)
    if not inside:
        raise ValueError(f"order id {order_id[:80]!r} names no folder right under {documents}")
    return folder


def order_files(source: ObjectStore) -> list[tuple[str, bytes]]:
    try:
        names = [name for name in source.list_files() if not name.lower().endswith(".json")]
    except FileNotFoundError:
        return []
    return [(name, source.read_bytes(name)) for name in names]


def check_case(
    case: Case, catalog: Mapping[str, Equipment], files: list[tuple[str, bytes]], config: HomologacaoConfig
) -> CheckResult:
    documents, problems = read_package(files, config)
    return asyncio.run(check_package(case, documents, problems, catalog, config))


def erp_items(items: list[Item]) -> list[dict[str, Any]]:
    return [
        {"name": i.rule, "ok": i.ok, "detail": i.message, "severity": i.severity, "fix": i.fix} for i in items
    ]


def send_unsent(conn: Any, client: ErpClient) -> tuple[int, int]:
    """(sent, failed); a failure is kept on its check and retried next run."""
    sent = failed = 0
    for check in store.unsent_checks(conn):
        assert check.order_id is not None
        try:
            client.post_homologacao_check(check.order_id, check.result.status, erp_items(check.result.items))
        except (ErpError, ValueError) as error:  # ValueError: an order id stored before ids were checked
            store.mark_sent(conn, check_id=check.id, error=str(error))
            failed += 1
        else:
            store.mark_sent(conn, check_id=check.id)
            sent += 1
        conn.commit()
    return sent, failed


def run(config: HomologacaoJobConfig, resources: Resources, client: ErpClient | None) -> HomologacaoJobReport:
    # the orders table is the ERP sync's
    with job_run(resources, JOB_NAME, erp_store.SCHEMA, store.SCHEMA) as run:
        conn = run.conn
        counts: Counter[str] = Counter()
        statuses: Counter[str] = Counter()
        catalog = load_catalog(conn)
        orders = store.placed_orders_without_case(conn)

        def reject(row: dict[str, Any], error: ValueError) -> None:
            reason = rejection_reason(error)
            erp_store.record_reject(conn, kind=REJECT_KIND, key=str(row["order_id"]), raw=row, reason=reason)
            conn.commit()
            counts["rejected"] += 1

        for row in orders:
            try:  # a row stored before order ids were checked may be no order, or name another folder
                order = ErpOrder.model_validate(row)
                folder = order_folder(config.documents, order.order_id, resources.settings)
            except ValueError as error:
                reject(row, error)
                continue
            files = order_files(resources.objects(folder))
            if not files:
                counts["waiting"] += 1
                continue
            try:
                case = case_from_order(order, catalog)
            except ValueError as error:  # NotACase, or a consumer unit our case model refuses
                reject(row, error)
                continue
            result = check_case(case, catalog, files, config.check)
            store.open_case(conn, case=case, documents=folder)
            store.record_check(conn, result=result, run_id=run.id)
            conn.commit()  # one order at a time: a crash keeps what is done
            counts["written"] += 1
            statuses[result.status] += 1
            run.counts = dict(counts)  # what a failure further on records
        sent, failed = send_unsent(conn, client) if client is not None and config.send else (0, 0)
        report = HomologacaoJobReport(
            run_id=run.id,
            read=len(orders),
            written=counts["written"],
            rejected=counts["rejected"],
            waiting=counts["waiting"],
            sent=sent,
            send_failed=failed,
            statuses=dict(statuses),
        )
        rows = postgres.RowCounts(
            read=report.read,
            accepted=report.read - report.rejected,
            written=report.written,
            rejected=report.rejected,
        )
        run.report(report.model_dump(mode="json"), rows)
    return report


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python -m ray_jobs.homologacao_ai",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    default_documents = str(settings.data_dir / "homologacao")
    parser.add_argument("--documents", default=default_documents, help="folder or s3:// URI of the documents")
    parser.add_argument("--no-send", action="store_true", help="store the checks without posting them")
    args = parser.parse_args(argv)
    join_cluster_for_metrics(settings)
    config = HomologacaoJobConfig(documents=args.documents, send=not args.no_send)
    resources = Resources(settings)
    client = resources.erp_client() if settings.erp_url and config.send else None
    if client is None and config.send:
        say("ERP_URL is not set: checks are stored, and sent by a later run that has it")
    try:
        report = run(config, resources, client)
    finally:
        if client is not None:
            client.close()
    say(
        f"homologacao-ai: {report.read} placed order(s) without a case; {report.written} checked "
        f"{report.statuses}, {report.rejected} rejected, {report.waiting} waiting for documents; "
        f"{report.sent} status(es) sent to the ERP, {report.send_failed} left for the next run"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
