"""The catalog → the storefront (Medusa): every product a distributor prices, published with a variant per
distributor, its BRL price and its stock at that distributor's stock location (catalog/storefront.py).

    python -m ray_jobs.storefront_publish
    ray job submit --working-dir . -- python -m ray_jobs.storefront_publish

Incremental: a product whose content hash is the one last sent is not touched, so a run with no change
writes nothing to Medusa and says so. New products go in batches; changed ones are updated in place
(their prices, variants of distributors added or gone, stock); products that left the catalog or lost
every price go back to draft (unpublished, their ids kept for the orders that name them). A product
Medusa refuses is kept in `storefront_rejects` with Medusa's reason, and the run goes on. Medusa down is
a failed run with the reason. A product is recorded in Postgres only after Medusa took it; a run that
stopped between the two finds the product by its handle next time and adopts it, so none is created
twice. Without MEDUSA_URL the job is idle: it says so and records a skipped run.

No Ray Data here: the work is HTTP calls to one server and a catalog read that fits in memory.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import defaultdict
from collections.abc import Sequence

from pydantic import BaseModel, Field

from catalog.storefront import StorefrontProduct, storefront_product
from common import storefront_store
from common.embedded import join_cluster_for_metrics
from common.medusa_client import MedusaAdmin, MedusaProduct, MedusaRefused, MedusaVariant, StoreSetup
from common.offer_store import catalog_with_offers
from common.resources import Resources
from common.settings import get_settings
from common.storefront_store import Published, StorefrontReject
from ray_jobs.progress import say, step
from ray_jobs.runner import JobRun, job_run

JOB_NAME = "storefront_publish"


class PublishReport(BaseModel):
    run_id: int
    status: str = Field(description="succeeded, or skipped (no MEDUSA_URL).")
    created: int = 0
    updated: int = 0
    unpublished: int = 0
    unchanged: int = 0
    rejected: int = 0
    store_api_key: str | None = Field(default=None, description="The publishable key of the Store API.")

    def counts(self) -> dict[str, int]:
        return self.model_dump(include={"created", "updated", "unpublished", "unchanged", "rejected"})

    def summary(self) -> str:
        return (
            f"storefront: {self.created} created, {self.updated} updated, {self.unpublished} unpublished,"
            f" {self.unchanged} unchanged, {self.rejected} refused by Medusa (storefront_rejects)"
        )

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.unpublished)


def run(resources: Resources, *, batch_size: int = 100) -> PublishReport:
    with job_run(resources, JOB_NAME, storefront_store.SCHEMA) as job:
        if not resources.settings.medusa_url:
            report = PublishReport(run_id=job.id, status="skipped")
            job.report(report.counts(), status="skipped")
            return report
        with MedusaAdmin.from_settings(resources.settings) as medusa:
            report = _publish(job, medusa, batch_size)
        job.report(report.counts())
        return report


def _publish(job: JobRun, medusa: MedusaAdmin, batch_size: int) -> PublishReport:
    conn = job.conn
    products, offers = catalog_with_offers(conn, in_stock_only=False)
    by_product = defaultdict(list)
    for offer in offers:
        by_product[offer.product_id].append(offer)
    wanted = {p.id: storefront_product(p, by_product[p.id]) for p in products}
    on_sale = {product_id: sp for product_id, sp in wanted.items() if sp is not None}
    published = storefront_store.published_products(conn)
    report = PublishReport(run_id=job.id, status="succeeded")
    fresh = [sp for product_id, sp in on_sale.items() if product_id not in published]
    changed = [
        sp
        for product_id, sp in on_sale.items()
        if product_id in published
        and (
            published[product_id].content_hash != sp.content_hash()
            or published[product_id].status != "published"
        )
    ]
    gone = [p for product_id, p in published.items() if p.status == "published" and product_id not in on_sale]
    report.unchanged = len(on_sale) - len(fresh) - len(changed)
    with step("store setup"):
        setup = medusa.store_setup(v.distributor for sp in on_sale.values() for v in sp.variants)
    report.store_api_key = setup.publishable_key
    if not (fresh or changed or gone):
        say(f"storefront up to date: {report.unchanged} products published, nothing to send")
        return report
    rejects = Rejects(job, report)
    with step(f"publish {len(fresh)} new products"):
        for start in range(0, len(fresh), batch_size):
            batch = fresh[start : start + batch_size]
            recorded = _create(medusa, batch, setup, rejects)
            storefront_store.record_published(conn, recorded, run_id=job.id)
            rejects.flush()
            report.created += len(recorded)
    with step(f"update {len(changed)} changed products"):
        for sp in changed:
            before = published[sp.product_id]
            current = MedusaProduct(
                before.medusa_product_id, sp.handle, before.option_id, _variants(before.variants)
            )
            try:
                after = medusa.update_product(sp, current, setup)
            except MedusaRefused as refused:
                rejects.add(sp, refused)
                rejects.flush()
                continue
            levels = StockLevels(setup)
            levels.add(sp, after, known=current)
            levels.send(medusa)
            storefront_store.record_published(conn, [_published(sp, after)], run_id=job.id)
            conn.commit()
            report.updated += 1
    with step(f"unpublish {len(gone)} products"):
        for start in range(0, len(gone), batch_size):
            leaving = gone[start : start + batch_size]
            medusa.unpublish([p.medusa_product_id for p in leaving])
            unpublished = [dataclasses.replace(p, status="unpublished") for p in leaving]
            storefront_store.record_published(conn, unpublished, run_id=job.id)
            conn.commit()
            report.unpublished += len(leaving)
    return report


class Rejects:
    """Products Medusa refused, written to `storefront_rejects` (and committed with what the run recorded
    so far) as the run goes, so a run that fails later still keeps them."""

    def __init__(self, job: JobRun, report: PublishReport) -> None:
        self.job = job
        self.report = report
        self.pending: list[StorefrontReject] = []

    def add(self, sp: StorefrontProduct, refused: MedusaRefused) -> None:
        say(f"  refused by Medusa: {sp.handle}: {refused.message}")
        self.pending.append(
            StorefrontReject(sp.product_id, sp.content_hash(), refused.message, sp.model_dump(mode="json"))
        )

    def flush(self) -> None:
        storefront_store.record_rejects(self.job.conn, self.pending, run_id=self.job.id)
        self.job.conn.commit()
        self.report.rejected += len(self.pending)
        self.pending = []


def _create(
    medusa: MedusaAdmin, batch: Sequence[StorefrontProduct], setup: StoreSetup, rejects: Rejects
) -> list[Published]:
    """Creates a batch (adopting products an interrupted run created), one by one when Medusa refuses
    the batch, so that only the product it refuses is left out; then their stock, in one call."""
    existing = medusa.products(handles=[sp.handle for sp in batch])
    new = [sp for sp in batch if sp.handle not in existing]
    levels = StockLevels(setup)
    recorded = []
    for sp in batch:
        if sp.handle in existing:
            after = medusa.update_product(sp, existing[sp.handle], setup)
            levels.add(sp, after, known=None, adopted=True)
            recorded.append(_published(sp, after))
    try:
        created = medusa.create_products(new, setup) if new else {}
    except MedusaRefused as batch_refused:
        created = {}
        if len(new) == 1:
            rejects.add(new[0], batch_refused)
        else:
            for sp in new:
                try:
                    created |= medusa.create_products([sp], setup)
                except MedusaRefused as refused:
                    rejects.add(sp, refused)
    for sp in new:
        if sp.handle in created:
            levels.add(sp, created[sp.handle], known=None)
            recorded.append(_published(sp, created[sp.handle]))
    levels.send(medusa)
    return recorded


class StockLevels:
    """Each variant's stock at its distributor's location, sent in one call for many products: a level
    made for a variant new in Medusa, changed for one that had it."""

    def __init__(self, setup: StoreSetup) -> None:
        self.setup = setup
        self.made: list[tuple[str, str, int]] = []
        self.changed: list[tuple[str, str, int]] = []
        self.unsure: list[tuple[str, str, int]] = []  # of products an interrupted run left in Medusa

    def add(
        self,
        sp: StorefrontProduct,
        after: MedusaProduct,
        *,
        known: MedusaProduct | None,
        adopted: bool = False,
    ) -> None:
        for variant in sp.variants:
            level = (
                after.variants[variant.distributor].inventory_item_id,
                self.setup.locations[variant.distributor],
                variant.stock,
            )
            if adopted:
                self.unsure.append(level)
            elif known is None or variant.distributor not in known.variants:
                self.made.append(level)
            else:
                self.changed.append(level)

    def send(self, medusa: MedusaAdmin) -> None:
        if self.unsure:  # the run may have stopped before their stock was set
            present = medusa.stock_levels([item for item, _, _ in self.unsure])
            for level in self.unsure:
                (self.changed if level[:2] in present else self.made).append(level)
        medusa.set_stock(self.made, new=True)
        medusa.set_stock(self.changed, new=False)


def _variants(recorded: dict[str, dict[str, str]]) -> dict[str, MedusaVariant]:
    return {d: MedusaVariant(v["variant_id"], v["inventory_item_id"]) for d, v in recorded.items()}


def _published(sp: StorefrontProduct, medusa: MedusaProduct) -> Published:
    variants = {
        d: {"variant_id": v.variant_id, "inventory_item_id": v.inventory_item_id}
        for d, v in medusa.variants.items()
    }
    return Published(sp.product_id, medusa.id, medusa.option_id, variants, sp.content_hash(), "published")


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python -m ray_jobs.storefront_publish",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--batch-size", type=int, default=100, help="products per Medusa batch call")
    args = parser.parse_args(argv)
    join_cluster_for_metrics(settings)
    if not settings.medusa_url:
        say("storefront publish idle: MEDUSA_URL is not set (recorded as a skipped run).")
    report = run(Resources(settings), batch_size=args.batch_size)
    say(report.summary())
    print(report.model_dump_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
