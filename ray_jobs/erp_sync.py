"""ERP sync: products (stock, price lists) and homologação status from the ERP; orders both ways.

    python -m ray_jobs.erp_sync all            # or: products | orders | homologacao
    python -m ray_jobs.erp_sync products --full  # forget the watermark: read every product again
    ray job submit --working-dir . -- python -m ray_jobs.erp_sync all

Each stream is one run in `job_runs` (`erp_sync.<stream>`, counts `read`, `written`, `rejected`).
Without ERP_URL the job is idle: it says so, records a `skipped` run per stream and exits 0.

Crash safety: a listing is read page by page from the stream's `updated_since` watermark, and each
page is stored in ONE transaction together with the watermark moved past it. A crash loses at most
the page in flight, which the next run reads again; records carry versions, so reading anything twice
(or an older version after a newer one) changes nothing. A re-run thus ends where one clean run ends.

Orders go out through `order_outbox` (written with the order by `erp_store.place_order`): each row is
sent with its idempotency key, and marked sent in the transaction that holds its row lock. A crash
between the ERP's accept and that mark leaves the row pending; the resend carries the same key, and
the ERP answers with the order it already created.

Changed prices: the report lists the (distributor, sku) whose offer price moved. Search and
`helio-pricing` follow them through the offers change feed (`ray_jobs.index_sync`), within seconds
of each page's commit: nothing here touches the index.

Why no Ray Data: an ERP listing is one sequential, paged stream into one Postgres transaction per page.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import psycopg
from pydantic import BaseModel, Field, ValidationError

from common import erp_store, postgres
from common.embedded import join_cluster_for_metrics
from common.erp_client import ErpClient, ErpError, ErpRefused, ErpUnavailable
from common.resources import Resources
from common.settings import get_settings
from erp.records import ErpOrder, ErpProduct, HomologacaoUpdate, rejection_reason
from erp.rules import advance_watermark
from ray_jobs.progress import say, step, table
from ray_jobs.runner import job_run

STREAMS = ("products", "orders", "homologacao")
REPORT_COLUMNS = ("read", "written", "unchanged", "rejected", "sent")
Key = tuple[str, str]
Conn = psycopg.Connection[Any]


class ErpSyncConfig(BaseModel):
    page_size: int = Field(default=200, ge=1, le=1000, description="Records per ERP listing page.")
    full: bool = Field(default=False, description="Forget the watermarks: read every record again.")


class StreamReport(BaseModel):
    stream: str
    run_id: int
    status: str = Field(description="succeeded, failed or skipped (no ERP_URL).")
    read: int = 0
    written: int = 0
    unchanged: int = Field(default=0, description="Duplicates and older versions: no-ops.")
    rejected: int = 0
    sent: int = Field(default=0, description="Orders the ERP accepted from the outbox.")
    changed_prices: list[Key] = Field(default_factory=list)
    error: str | None = None

    def counts(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"stream", "run_id", "status", "error"})

    @property
    def rows(self) -> postgres.RowCounts:
        return postgres.RowCounts(
            read=self.read, accepted=self.read - self.rejected, written=self.written, rejected=self.rejected
        )


class ErpSyncReport(BaseModel):
    streams: dict[str, StreamReport]

    @property
    def ok(self) -> bool:
        return all(report.status != "failed" for report in self.streams.values())


_RECORDS: dict[str, tuple[type[BaseModel], Callable[[Conn, Any], erp_store.Applied]]] = {
    "products": (ErpProduct, erp_store.apply_product),
    "orders": (ErpOrder, erp_store.apply_order),
    "homologacao": (HomologacaoUpdate, erp_store.apply_homologacao),
}


def pull(conn: Conn, client: ErpClient, report: StreamReport, config: ErpSyncConfig) -> None:
    """Read one listing from its watermark and apply it, a page per transaction (with the watermark)."""
    model, apply = _RECORDS[report.stream]
    if config.full:
        with conn.transaction():
            erp_store.move_watermark(conn, stream=report.stream, updated_since=None)
    with conn.transaction():
        since = erp_store.watermark(conn, stream=report.stream)
    for page in client.pages(report.stream, updated_since=since, limit=config.page_size):
        with conn.transaction():
            records = [record for raw in page.items if (record := _parse(conn, model, raw, report))]
            keys = [(r.distributor, r.sku) for r in records if isinstance(r, ErpProduct)]
            before = erp_store.offer_prices(conn, keys=keys)
            for record in records:
                applied = apply(conn, record)
                report.written += applied.wrote
                report.unchanged += applied in (erp_store.Applied.unchanged, erp_store.Applied.stale)
                report.rejected += applied is erp_store.Applied.rejected
            after = erp_store.offer_prices(conn, keys=keys)
            report.changed_prices += [key for key in dict.fromkeys(keys) if before.get(key) != after.get(key)]
            since = advance_watermark(since, (r.updated_at for r in records))
            erp_store.move_watermark(conn, stream=report.stream, updated_since=since)


def _parse(conn: Conn, model: type[BaseModel], raw: dict[str, Any], report: StreamReport) -> Any:
    report.read += 1
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        key = "/".join(str(raw.get(k)) for k in ("distributor", "sku") if k in raw) or str(
            raw.get("order_id")
        )
        erp_store.record_reject(conn, kind=report.stream, key=key, raw=raw, reason=rejection_reason(error))
        report.rejected += 1
        return None


def dispatch_outbox(conn: Conn, client: ErpClient, report: StreamReport) -> None:
    """Send every pending order; one the ERP refuses (4xx), or one that is no valid order any more (an
    outbox row written before order ids were checked), is kept as failed with its error. When the ERP is
    unavailable, the order stays pending (its attempt recorded) and the error ends the run."""
    while True:
        unavailable: ErpUnavailable | None = None
        with conn.transaction():
            entry = erp_store.next_pending(conn)
            if entry is None:
                return
            report.read += 1
            try:
                order = ErpOrder.model_validate(entry.payload)
            except ValidationError as error:
                reason = rejection_reason(error)
                erp_store.mark_failed(conn, key=entry.idempotency_key, error=reason, final=True)
                report.rejected += 1
                continue
            try:
                erp_id = client.send_order(order, key=entry.idempotency_key)
            except ErpRefused as error:
                erp_store.mark_failed(conn, key=entry.idempotency_key, error=str(error), final=True)
                report.rejected += 1
                continue
            except ErpUnavailable as error:
                erp_store.mark_failed(conn, key=entry.idempotency_key, error=str(error), final=False)
                unavailable = error
            else:
                erp_store.mark_sent(conn, key=entry.idempotency_key, erp_order_id=erp_id)
                report.sent += 1
        if unavailable is not None:
            raise unavailable


def sync_stream(
    stream: str, resources: Resources, conn: Conn, client: ErpClient, config: ErpSyncConfig
) -> StreamReport:
    with job_run(resources, f"erp_sync.{stream}", erp_store.SCHEMA, conn=conn) as run:
        report = StreamReport(stream=stream, run_id=run.id, status="running")
        try:
            with step(f"ERP {stream}"):
                if stream == "orders":
                    dispatch_outbox(conn, client, report)
                pull(conn, client, report, config)
            report.status = "succeeded"
        except ErpError as error:  # the ERP is down or refuses us: recorded, the next run resumes
            report.status, report.error = "failed", f"{type(error).__name__}: {error}"
        finally:  # what the pages before a failure wrote is committed, and counted
            run.report(report.counts(), report.rows, status=report.status, error=report.error)
    return report


def run(
    stream: str,
    resources: Resources,
    *,
    config: ErpSyncConfig | None = None,
    client: ErpClient | None = None,
) -> ErpSyncReport:
    """Sync one stream, or "all"; each stream is its own recorded run. `client` defaults to one built
    from the settings."""
    streams = STREAMS if stream == "all" else (stream,)
    if not set(streams) <= set(STREAMS):
        raise ValueError(f"unknown ERP stream {stream!r}; one of {', '.join(STREAMS)} or all")
    config = config or ErpSyncConfig()
    reports: dict[str, StreamReport] = {}
    with resources.connect() as conn:
        conn.autocommit = True  # every transaction here is an explicit block: a page, an outbox row
        if client is None and not resources.settings.erp_url:
            for name in streams:
                with job_run(resources, f"erp_sync.{name}", erp_store.SCHEMA, conn=conn) as run:
                    reports[name] = StreamReport(stream=name, run_id=run.id, status="skipped")
                    run.report(reports[name].counts(), status="skipped")
            return ErpSyncReport(streams=reports)
        erp = client or resources.erp_client()
        try:
            for name in streams:
                reports[name] = sync_stream(name, resources, conn, erp, config)
        finally:
            if client is None:
                erp.close()
    return ErpSyncReport(streams=reports)


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python -m ray_jobs.erp_sync",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("stream", nargs="?", default="all", choices=[*STREAMS, "all"])
    parser.add_argument("--full", action="store_true", help="ignore the watermarks and read everything")
    parser.add_argument("--page-size", type=int, default=200, help="records per ERP page")
    args = parser.parse_args(argv)
    join_cluster_for_metrics(settings)
    if not settings.erp_url:
        say("ERP sync idle: ERP_URL is not set (recorded as a skipped run).")
    report = run(
        args.stream,
        Resources(settings),
        config=ErpSyncConfig(page_size=args.page_size, full=args.full),
    )
    if not settings.erp_url:
        return 0
    say(table({name: r.model_dump() for name, r in report.streams.items()}, REPORT_COLUMNS))
    for name, stream_report in report.streams.items():
        if stream_report.error:
            say(f"error: {name}: {stream_report.error}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
