"""Tariffs: ANEEL's "Tarifas de Aplicação das Distribuidoras" → Postgres, and the residential B1 tariff.

    python -m ray_jobs.tariffs --source tarifas-homologadas-distribuidoras-energia-eletrica.csv
    python -m ray_jobs.tariffs --source s3://bucket/aneel/tarifas.csv
    python -m ray_jobs.tariffs --source https://dadosabertos.aneel.gov.br --resource-id RESOURCE_ID
    ray job submit --working-dir . -- python -m ray_jobs.tariffs --source s3://bucket/aneel/tarifas.csv

Every accepted row is stored once in `aneel_tariffs` (keyed by a hash of its 17 fields: a second run
writes nothing), rejected rows go to `tariff_rejects` with their reason, and the B1 residential
conventional tariff in force on `--on` (default today) is derived per CNPJ into `residential_tariffs`,
TUSD and TE kept apart (the TUSD share is what the Fio B rule needs).

Why no Ray Data here: the source is one file (~90 MB, ~330k rows) or one paged API, i.e. one sequential
stream. Splitting it across workers would mean shipping rows to them and back to the one Postgres
connection that writes them, for a parse that takes seconds. So the driver streams it instead: lines
are read lazily (local file, fsspec for s3://, the CKAN pages), parsed one at a time by
`solar.tariffs.parse_tariff_rows`, and each row goes straight into a Postgres COPY while the same pass
keeps the residential candidates; no list of 330k rows is ever built. It runs the same under
`ray job submit` (on the head node), with no Ray cluster resources needed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from datetime import date

import fsspec
import httpx
from pydantic import BaseModel, Field

from common import postgres, tariff_store
from common.aneel_ckan import CkanError, CkanTariffClient
from common.embedded import join_cluster_for_metrics
from common.resources import Resources
from common.settings import get_settings
from ray_jobs.progress import say, step, table
from ray_jobs.runner import job_run
from solar.tariffs import (
    RejectedTariffRow,
    TariffRow,
    is_residential_conventional,
    parse_tariff_rows,
    residential_tariffs,
)

JOB_NAME = "tariffs"
REPORT_COLUMNS = ("read", "accepted", "rejected", "new", "unchanged")


class TariffsJobConfig(BaseModel):
    source: str = Field(
        description="The ANEEL CSV (path or s3:// URI), or a CKAN portal's http(s):// base URL."
    )
    resource_id: str | None = Field(
        default=None, description="CKAN resource id; needed for an http(s) source."
    )
    on: date = Field(default_factory=date.today, description="Date of the derived residential tariffs.")
    page_size: int = Field(default=10_000, description="Records per CKAN datastore_search page.")


class TariffsReport(BaseModel):
    run_id: int
    source: str
    on: date
    read: int
    accepted: int
    rejected: int
    new: int
    unchanged: int
    rejects_new: int
    utilities: int  # CNPJs with a derived residential tariff on `on`

    @property
    def changed(self) -> bool:
        return self.new > 0 or self.rejects_new > 0


def is_http(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def source_lines(
    config: TariffsJobConfig, resources: Resources, stack: ExitStack
) -> Iterable[str] | Iterable[bytes]:
    """The source as a lazy stream of lines (bytes from files, text from the API)."""
    if is_http(config.source):
        if not config.resource_id:
            raise ValueError("an http(s) source is a CKAN portal: give --resource-id too")
        return CkanTariffClient(config.source, config.resource_id, page_size=config.page_size).lines()
    if config.source.startswith("s3://"):
        store = resources.objects(config.source)
        lines: Iterable[bytes] = stack.enter_context(fsspec.open(config.source, "rb", **store.options))
        return lines
    return stack.enter_context(open(config.source, "rb"))


class _Split:
    """One pass over the parsed stream: accepted rows flow on (to COPY), rejects are kept aside."""

    def __init__(self, items: Iterable[TariffRow | RejectedTariffRow], on: date) -> None:
        self.items = items
        self.on = on
        self.rejects: list[RejectedTariffRow] = []
        self.residential: list[TariffRow] = []

    def accepted(self) -> Iterator[TariffRow]:
        for item in self.items:
            if isinstance(item, RejectedTariffRow):
                self.rejects.append(item)
                continue
            if item.valid_from <= self.on <= item.valid_to and is_residential_conventional(item):
                # the candidates residential_tariffs chooses from: about one per utility
                self.residential.append(item)
            yield item


def run(config: TariffsJobConfig, resources: Resources) -> TariffsReport:
    source = config.source if not is_http(config.source) else f"{config.source}#{config.resource_id}"
    with job_run(resources, JOB_NAME, tariff_store.SCHEMA) as run:
        conn = run.conn
        with ExitStack() as stack, step(f"load ANEEL tariffs from {source}"):
            split = _Split(parse_tariff_rows(source_lines(config, resources, stack)), config.on)
            counts = tariff_store.upsert_tariff_rows(
                conn, rows=split.accepted(), source=source, run_id=run.id
            )
            rejects_new = tariff_store.record_tariff_rejects(
                conn, rejects=split.rejects, source=source, run_id=run.id
            )
        with step(f"derive residential B1 tariffs in force on {config.on}"):
            derived = residential_tariffs(split.residential, config.on) if counts.accepted else {}
            if derived:
                tariff_store.replace_residential_tariffs(conn, tariffs=derived.values(), derived_on=config.on)
        report = TariffsReport(
            run_id=run.id,
            source=source,
            on=config.on,
            read=counts.accepted + len(split.rejects),
            accepted=counts.accepted,
            rejected=len(split.rejects),
            new=counts.new,
            unchanged=counts.unchanged,
            rejects_new=rejects_new,
            utilities=len(derived),
        )
        rows = postgres.RowCounts(
            read=report.read, accepted=report.accepted, written=report.new, rejected=report.rejected
        )
        run.report(report.model_dump(mode="json"), rows, status="succeeded" if report.accepted else "failed")
    return report


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python -m ray_jobs.tariffs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--source",
        default=settings.tariffs_source,
        help="CSV path, s3:// URI, or CKAN http(s):// base URL (default: TARIFFS_SOURCE)",
    )
    parser.add_argument("--resource-id", help="CKAN resource id (http(s) sources)")
    parser.add_argument("--on", type=date.fromisoformat, default=date.today(), help="derivation date (ISO)")
    parser.add_argument("--page-size", type=int, default=10_000, help="CKAN records per page")
    args = parser.parse_args(argv)
    join_cluster_for_metrics(settings)
    config = TariffsJobConfig(
        source=args.source, resource_id=args.resource_id, on=args.on, page_size=args.page_size
    )
    try:
        report = run(config, Resources(settings))
    except (OSError, CkanError, httpx.HTTPError, ValueError) as error:  # recorded as failed in job_runs
        say(f"error: nothing could be loaded from {config.source}: {error}")
        return 1
    say(table({"tariffs": report.model_dump()}, REPORT_COLUMNS))
    say(
        f"residential B1 tariff in force on {report.on}: {report.utilities} utilities; "
        + (
            f"{report.new} new rows, {report.rejects_new} new rejects"
            if report.changed
            else "no changes: every row was already stored"
        )
    )
    if report.accepted == 0:
        say("error: no row could be loaded")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
