"""Freshness under search load: seconds from a price change to `/store/helio/search` showing it, per path.

Each path changes the price of `changes` products, one at a time, while clients search the API:
- feed: the distributor's feed file is rewritten and the catalog ETL runs (as the folder watch runs it;
  the watch's own settle interval, 30 s by default, comes on top);
- erp: the ERP (its simulator: the real one is proprietary) gets a new price list and the sync runs;
- kafka: a price message goes to the price topic of the real tansu broker, and the consumer applies it.
The timer starts at the change (the file written, the ERP record stored, the message sent) and stops at
the first search answer that shows the new price; the index syncer is what carries it there.
"""

from __future__ import annotations

import csv
import io
import shutil
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

POLL_S = 0.2
TIMEOUT_S = 180.0


def summary(seconds: list[float]) -> dict[str, float]:
    quantiles = statistics.quantiles(seconds, n=20, method="inclusive")
    return {"p50_s": round(quantiles[9], 2), "p95_s": round(quantiles[18], 2), "n": len(seconds)}


class SearchLoad:
    """`clients` threads searching the API until stopped; every status counted."""

    def __init__(self, url: str, queries: list[str], clients: int = 4) -> None:
        self.statuses: Counter[int] = Counter()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(url, queries, n), daemon=True) for n in range(clients)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, url: str, queries: list[str], offset: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            n = offset
            while not self._stop.is_set():
                status = client.get(
                    "/store/helio/search", params={"q": queries[n % len(queries)]}
                ).status_code
                self.statuses[status] += 1
                n += 1

    def stop(self) -> dict[str, int]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        return {str(status): count for status, count in sorted(self.statuses.items())}


def shows(url: str, product: dict[str, Any], price: float) -> bool:
    """A search for the product's title lists it, at `price`."""
    response = httpx.get(f"{url}/store/helio/search", params={"q": product["title"], "limit": 10}, timeout=30)
    response.raise_for_status()
    return any(r["id"] == product["id"] and r["price_brl"] == price for r in response.json()["results"])


def seconds_until_shown(url: str, product: dict[str, Any], price: float, changed_at: float) -> float:
    while time.monotonic() - changed_at < TIMEOUT_S:
        if shows(url, product, price):
            return time.monotonic() - changed_at
        time.sleep(POLL_S)
    raise TimeoutError(f"{product['title']}: price {price} not in search within {TIMEOUT_S:.0f} s")


def single_offer_products(settings: Any, distributor: str, count: int) -> list[dict[str, Any]]:
    """In-stock products sold by `distributor` alone: their search price is that one offer's."""
    from common.resources import Resources

    with Resources(settings).connect() as conn:
        return conn.execute(
            "SELECT p.id::text AS id, p.title, o.sku, o.price_brl::float8 AS price, o.stock, o.distributor "
            "FROM products p JOIN offers o ON o.product_id = p.id "
            "WHERE o.distributor = %s AND o.stock > 0 AND o.price_brl IS NOT NULL AND p.id IN "
            "(SELECT product_id FROM offers GROUP BY product_id HAVING count(*) = 1) "
            "ORDER BY p.id LIMIT %s",
            (distributor, count),
        ).fetchall()


def measure(
    products: list[dict[str, Any]], url: str, changes: int, change: Callable[[dict[str, Any], float], bool]
) -> list[float]:
    """Seconds to visible for the first `changes` products whose price `change` could change."""
    seconds: list[float] = []
    for n, product in enumerate(products):
        if not shows(url, product, product["price"]):
            continue  # its title finds other products first: no way to see its price change
        price = round(product["price"] + 1 + n, 2)
        changed_at = time.monotonic()
        if change(product, price):
            seconds.append(seconds_until_shown(url, product, price, changed_at))
        if len(seconds) == changes:
            return seconds
    raise RuntimeError(f"only {len(seconds)} of {changes} products could be changed")


def with_price(data: bytes, sku: str, price: float) -> bytes | None:
    """The CSV feed `data` with `sku`'s price replaced, every other byte as it was (the sample's files
    carry deliberate defects, a bad encoding among them, which a rewrite would repair); None when the
    SKU is not in it."""
    lines = data.split(b"\n")
    header = next(csv.reader([lines[0].decode("utf-8", errors="replace").rstrip("\r")]))
    for n, line in enumerate(lines):
        if line.startswith(sku.encode() + b","):
            try:
                fields = next(csv.reader([line.decode("utf-8").rstrip("\r")]))
            except UnicodeDecodeError:  # one of the sample's defective rows: not a price to edit
                return None
            fields[header.index("price_brl")] = f"{price:.2f}"
            out = io.StringIO()
            csv.writer(out, lineterminator="").writerow(fields)
            lines[n] = out.getvalue().encode() + (b"\r" if line.endswith(b"\r") else b"")
            return b"\n".join(lines)
    return None


def feed_path(settings: Any, feeds: Path, url: str, changes: int, etl_seconds: list[float]) -> list[float]:
    """Prices edited in greenvolt's CSV files (a copy of the bench's feeds), then the catalog ETL, whose
    durations (on the Ray the Serve app holds, under the search load) go to `etl_seconds`."""
    from common.resources import Resources
    from ray_jobs.catalog_etl import CatalogEtlConfig, run

    files = sorted((feeds / "greenvolt").glob("*.csv"))

    def change(product: dict[str, Any], price: float) -> bool:
        for path in files:
            edited = with_price(path.read_bytes(), product["sku"], price)
            if edited is not None:
                break
        else:
            return False
        staging = path.with_suffix(".tmp")
        staging.write_bytes(edited)
        staging.replace(path)
        started = time.monotonic()
        run(CatalogEtlConfig(source=str(feeds), feeds_config=settings.feeds_config), Resources(settings))
        etl_seconds.append(time.monotonic() - started)
        return True

    return measure(single_offer_products(settings, "greenvolt", changes * 2), url, changes, change)


def erp_path(settings: Any, url: str, changes: int) -> list[float]:
    """A new B1 price in the ERP simulator, then the products sync."""
    import uvicorn
    from pydantic import SecretStr

    from common.resources import Resources
    from ray_jobs.erp_sync import ErpSyncConfig, run
    from tests.conftest import free_port
    from tests.erp_simulator import ErpSimulator, create_app

    simulator = ErpSimulator(token="bench-erp-token")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(simulator), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    erp_settings = settings.model_copy(
        update={"erp_url": f"http://127.0.0.1:{port}", "erp_token": SecretStr("bench-erp-token")}
    )

    def change(product: dict[str, Any], price: float) -> bool:
        prices = {"B1": f"{price:.2f}"}
        simulator.put_product(product["distributor"], product["sku"], stock=product["stock"], prices=prices)
        run("products", Resources(erp_settings), config=ErpSyncConfig())
        return True

    try:
        return measure(single_offer_products(settings, "brightline", changes * 2), url, changes, change)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def kafka_path(settings: Any, scratch: Path, url: str, changes: int) -> list[float]:
    """A price message on the real broker's price topic, applied by the change-stream consumers."""
    from ray_jobs import change_streams
    from tests.change_streams.conftest import produce
    from tests.kafka_broker import TansuBroker

    broker = TansuBroker(scratch / "tansu.log")
    broker.start()
    topic = f"bench-{uuid.uuid4().hex[:8]}.prices"
    broker.create_topic(topic)
    kafka = settings.model_copy(
        update={"kafka_bootstrap_servers": broker.bootstrap_servers, "kafka_topic_prices": topic}
    )
    for name in (kafka.kafka_topic_orders, kafka.kafka_topic_homologacao):
        broker.create_topic(name)
    change_streams.start(kafka)
    versions = Counter[str]()

    def change(product: dict[str, Any], price: float) -> bool:
        key = f"{product['distributor']}/{product['sku']}"
        versions[key] += 1
        message = {"distributor": product["distributor"], "sku": product["sku"], "price_list": "B1",
                   "price_brl": f"{price:.2f}", "updated_at": "2030-01-01T00:00:00+00:00",
                   "version": 1000 + versions[key]}  # fmt: skip
        produce(broker, topic, [(key, message)])
        return True

    try:
        return measure(single_offer_products(settings, "kit_center", changes * 2), url, changes, change)
    finally:
        change_streams.stop(kafka)
        broker.stop()


def bench_freshness(
    settings: Any, feeds: Path, scratch: Path, url: str, queries: list[str], changes: int
) -> dict[str, Any]:
    from common.embedded import stop_named_actor
    from ray_jobs import index_sync

    index_sync.start(settings)
    load = SearchLoad(url, queries)
    etl_seconds: list[float] = []
    try:
        figures = {
            "feed": summary(feed_path(settings, feeds, url, changes, etl_seconds)),
            "erp": summary(erp_path(settings, url, changes)),
            "kafka": summary(kafka_path(settings, scratch, url, changes)),
        }
    finally:
        statuses = load.stop()
        stop_named_actor(index_sync.ACTOR_NAME)  # before the bench's scratch folder (its index) goes
    return {
        **figures,
        "etl_run_one_price_changed_while_serving": summary(etl_seconds),
        "search_load_statuses": statuses,
        "target_p95_s": 60,
    }


def main() -> int:
    """`python -m scripts.bench_freshness`: these figures alone (`make bench` measures them with the rest),
    on the full sample loaded, embedded and served as `make run` does."""
    import argparse
    import json
    import tempfile

    from ray import serve

    from common.embedded import init_ray, local_ray_cpus
    from common.resources import Resources
    from common.settings import Settings
    from common.vectors.owner import stop_vector_index
    from ray_jobs import catalog_etl, embed_catalog, indexing, knowledge_bases
    from scripts.bench import QUERIES
    from serve_app.app import build_search_app
    from serve_app.config import SearchAppConfig

    parser = argparse.ArgumentParser(prog="python -m scripts.bench_freshness", description=__doc__)
    parser.add_argument("--feeds", type=Path, default=Path("sample_feeds"))
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--port", type=int, default=8124)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ysh-freshness-") as folder:
        scratch = Path(folder)
        settings = Settings(data_dir=scratch / "data", port=args.port)
        shipped = SearchAppConfig.from_yaml(settings.serve_config)
        init_ray(settings, num_cpus=local_ray_cpus(shipped.reserved_cpus()))
        shutil.copytree(args.feeds, scratch / "feeds")
        source = catalog_etl.CatalogEtlConfig(
            source=str(scratch / "feeds"), feeds_config=settings.feeds_config
        )
        resources = Resources(settings)
        catalog_etl.run(source, resources)
        embed_catalog.run(indexing.EmbedJobConfig(), resources)
        knowledge_bases.run(knowledge_bases.KnowledgeJobConfig(source=settings.docs_uri), resources)
        # Every client is 127.0.0.1: the per-client rate is lifted, as in `make bench`.
        limits = shipped.router.limits.model_copy(update={"rate_per_s": 1e6, "burst": 1_000_000})
        config = shipped.model_copy(update={"router": shipped.router.model_copy(update={"limits": limits})})
        serve.start(http_options={"host": "127.0.0.1", "port": args.port})
        serve.run(build_search_app(config, settings), name="freshness", route_prefix="/")
        url = f"http://127.0.0.1:{args.port}"
        figures = bench_freshness(settings, scratch / "feeds", scratch, url, QUERIES, args.changes)
        serve.shutdown()
        stop_vector_index()
        import pgserver

        pgserver.get_server(settings.postgres_dir).cleanup()
    print(json.dumps({"freshness": figures}, indent=2))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
