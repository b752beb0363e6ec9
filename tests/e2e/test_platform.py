"""The platform as `make run` starts it, tested as it runs: `python -m ray_jobs.local_stack` in a process of
its own (its own local Ray, the Serve app, the scheduler, the index syncer, the Kafka consumers, the vector
index), over the session's Postgres, the real tansu broker and the ERP simulator (the real ERP is
proprietary). While a bounded load of searches runs on 127.0.0.1, every job is fired (the admin API, the
folder watches, declared dependencies), and a price changes in a feed, in the ERP and on the Kafka price
topic, a product comes and goes, and documents are edited and deleted; each change must show through the
API within its bound, every run succeed with its counts, no request answer 5xx, nothing be written twice.

Two departures from `make run`, both for this 2-core machine: a small sample, and the chat chain without
the llama.cpp engine (the extractive answer), so the jobs get the cores the model would take.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml

from common.embedded import running_stack_address, stack_file
from common.settings import PROJECT_ROOT, Settings
from samples.feeds import write_sample
from tests.change_streams.conftest import produce
from tests.conftest import ERP_TOKEN, free_port, new_database
from tests.erp_simulator import ErpSimulator
from tests.kafka_broker import TansuBroker

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

ADMIN_TOKEN = "e2e-admin-token-" + "x" * 24
DISTRIBUTOR = "greenvolt"
GREENVOLT_COLUMNS = [
    "sku",
    "name",
    "category",
    "brand",
    "model",
    "power_kw",
    "voc",
    "isc",
    "vmp",
    "imp",
    "temp_coeff_voc",
    "efficiency",
    "cell_type",
    "max_dc_voltage",
    "mppt_min_v",
    "mppt_max_v",
    "mppt_count",
    "max_input_current_a",
    "max_pv_power_kw",
    "grid_voltage",
    "phases",
    "capacity_kwh",
    "battery_voltage",
    "chemistry",
    "price_brl",
    "stock_qty",
    "lead_time_days",
]
EDITED_DOC = "regulatory/ren-1000-conexao-prazos.md"
DELETED_DOC = "regulatory/icms-convenio-16-2015.md"
EDITED_TEXT = (
    "# Protocolo de acesso\n\nO protocolo Quorvex7731 identifica o pedido de acesso de microgeração junto à "
    "distribuidora, que emite o parecer de acesso em até 15 dias.\n"
)


def battery_row(model: str, price: str) -> dict[str, str]:
    """A greenvolt feed row of a battery of a brand no sample product has."""
    row = dict.fromkeys(GREENVOLT_COLUMNS, "")
    row.update(
        sku=f"GV-B-{model}",
        name=f"Zyxwave {model} 5.0 kWh LiFePO4 battery",
        category="Battery",
        brand="Zyxwave",
        model=model,
        capacity_kwh="5.0",
        battery_voltage="48",
        chemistry="LiFePO4",
        price_brl=price,
        stock_qty="12",
        lead_time_days="5",
    )
    return row


def write_feed(path: Path, rows: list[dict[str, str]]) -> None:
    """Written aside and moved in, as a distributor's upload lands: never read half-written."""
    staging = path.with_suffix(".tmp")
    with staging.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=GREENVOLT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    staging.replace(path)


@dataclass
class Stack:
    url: str
    dsn: str
    feeds: Path
    docs: Path
    settings: Settings
    prices_topic: str
    log: Path
    process: subprocess.Popen[bytes]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})

    def db(self) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(self.dsn, autocommit=True)


@dataclass
class SearchLoad:
    """A bounded background load of searches (127.0.0.1 only): every status kept."""

    url: str
    statuses: Counter[int] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)
    queries: tuple[str, ...] = (
        "painel 550 W",
        "inversor 5 kW",
        "bateria lítio",
        "microinversor",
        "kit 3 kWp",
    )

    def run(self, max_requests: int = 3000) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            for n in range(max_requests):
                if self.stop.is_set():
                    return
                try:
                    status = client.get("/store/helio/search", params={"q": self.queries[n % 5]}).status_code
                except httpx.TransportError:
                    status = 0  # no answer at all counts against the stack too
                self.statuses[status] += 1
                self.stop.wait(0.25)


def wait_for(what: str, check: Callable[[], Any], timeout_s: float, stack: Stack) -> float:
    """Seconds until `check()` is truthy; fails (with the stack's log tail) past `timeout_s`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout_s:
            tail = stack.log.read_text(errors="replace")[-4000:]
            recent = "\n".join(json.dumps(run) for run in runs(stack)[:12])
            pytest.fail(
                f"{what}: not within {timeout_s:.0f} s\n--- runs ---\n{recent}\n--- stack log ---\n{tail}"
            )
        assert stack.process.poll() is None, (
            f"the stack exited: {stack.log.read_text(errors='replace')[-4000:]}"
        )
        time.sleep(1)
    return time.monotonic() - started


def found(stack: Stack, model: str) -> dict[str, Any] | None:
    """The search result of the Zyxwave battery `model`, if a search for it finds it."""
    with stack.client() as client:
        response = client.get("/store/helio/search", params={"q": f"bateria Zyxwave {model}", "limit": 5})
    response.raise_for_status()
    return next((r for r in response.json()["results"] if r["model"] == model), None)


def priced(stack: Stack, model: str, price: float) -> Callable[[], bool]:
    def check() -> bool:
        hit = found(stack, model)
        return hit is not None and hit["price_brl"] == price

    return check


def cited_sources(stack: Stack, question: str) -> list[str]:
    """The answer, and each citation's source and snippet."""
    with stack.client() as client:
        response = client.post("/store/helio/ask", json={"question": question})
    response.raise_for_status()
    answer = response.json()
    return [answer["answer"], *(c["source"] + " " + c["snippet"] for c in answer["citations"])]


@pytest.fixture(scope="module")
def stack(
    settings: Settings,
    kafka_broker: TansuBroker,
    simulator_server: tuple[str, ErpSimulator],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("stack")
    feeds, docs = base / "feeds", base / "docs"
    write_sample(feeds, seed=5, products=60)
    shutil.copytree(PROJECT_ROOT / "rag" / "corpus", docs)
    run = uuid.uuid4().hex[:8]
    topics = {name: f"e2e-{run}.{name}" for name in ("prices", "orders", "homologacao")}
    for topic in topics.values():
        kafka_broker.create_topic(topic)
    schedules = yaml.safe_load((PROJECT_ROOT / "ray_jobs" / "schedules.yaml").read_text(encoding="utf-8"))
    schedules.update(watch_interval_s=2, poll_s=1, retry={"max_attempts": 2, "backoff_s": 5})
    (base / "schedules.yaml").write_text(yaml.safe_dump(schedules), encoding="utf-8")
    serve = yaml.safe_load((PROJECT_ROOT / "serve_app" / "configs" / "cpu.yaml").read_text(encoding="utf-8"))
    serve["applications"][0]["args"]["chat"]["engines"] = []  # the extractive answer: no model on 2 cores
    (base / "serve.yaml").write_text(yaml.safe_dump(serve), encoding="utf-8")
    dsn = new_database(settings)
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RAY_", "PYTEST")) or key == "RAY_AUTH_MODE"
    }
    env.update(
        DATA_DIR=str(base / "data"),
        DATABASE_URL=dsn,
        FEEDS_URI=str(feeds),
        DOCS_URI=str(docs),
        HOST="127.0.0.1",
        PORT=str(port),
        ADMIN_TOKEN=ADMIN_TOKEN,
        ERP_URL=simulator_server[0],
        ERP_TOKEN=ERP_TOKEN,
        KAFKA_BOOTSTRAP_SERVERS=kafka_broker.bootstrap_servers,
        KAFKA_GROUP_ID=f"e2e-{run}",
        KAFKA_TOPIC_PRICES=topics["prices"],
        KAFKA_TOPIC_ORDERS=topics["orders"],
        KAFKA_TOPIC_HOMOLOGACAO=topics["homologacao"],
        SCHEDULES_CONFIG=str(base / "schedules.yaml"),
        SERVE_CONFIG=str(base / "serve.yaml"),
        HF_HUB_OFFLINE="1",
        RAY_AUTH_MODE="disabled",
        RAY_USAGE_STATS_ENABLED="0",
        PYTHONUNBUFFERED="1",
    )
    simulator_server[1].reset()
    log = base / "stack.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ray_jobs.local_stack"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its Ray and everything it started are stopped with it
        )
    stack = Stack(
        url=f"http://127.0.0.1:{port}",
        dsn=dsn,
        feeds=feeds,
        docs=docs,
        settings=settings.model_copy(update={"database_url": dsn, "data_dir": base / "data"}),
        prices_topic=topics["prices"],
        log=log,
        process=process,
    )
    try:

        def healthy() -> bool:
            try:
                with stack.client() as client:
                    return client.get("/health").status_code == 200
            except httpx.TransportError:
                return False

        wait_for("the stack serving", healthy, 420, stack)
        yield stack
    finally:
        if process.poll() is None:  # the last test stops it as a user does; this is for a failed run
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


def run_job(stack: Stack, name: str) -> int:
    """Through the admin API, as an operator does; the run id."""
    with stack.admin() as admin:
        response = admin.post(f"/admin/jobs/{name}/run")
    assert response.status_code == 202, response.text
    run_id: int = response.json()["run_id"]
    return run_id


def runs(stack: Stack) -> list[dict[str, Any]]:
    with stack.admin() as admin:
        response = admin.get("/admin/runs", params={"limit": 500})
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()["runs"]
    return result


def settled(stack: Stack) -> bool:
    """No run in progress."""
    return all(run["status"] != "running" for run in runs(stack))


def test_the_platform_keeps_itself_fresh_under_load(
    stack: Stack, kafka_broker: TansuBroker, simulator_server: tuple[str, ErpSimulator]
) -> None:
    erp = simulator_server[1]
    load = SearchLoad(stack.url)
    loader = threading.Thread(target=load.run, daemon=True)
    loader.start()
    took: dict[str, float] = {}
    try:
        # Every job fired by hand once; the catalog's dependants follow by themselves.
        for job in ("catalog", "tariffs", "erp_sync"):
            run_job(stack, job)
        wait_for("the first runs and their dependants", lambda: settled(stack), 300, stack)

        # A new product dropped into the feed source: the watch, the ETL, the embedding job.
        feed = stack.feeds / DISTRIBUTOR / "e2e.csv"
        write_feed(feed, [battery_row("ZX-E2E1", "9999.00")])
        took["new product"] = wait_for(
            "a new product searchable", lambda: found(stack, "ZX-E2E1"), 300, stack
        )
        sku = "GV-B-ZX-E2E1"

        # A price in the feed.
        write_feed(feed, [battery_row("ZX-E2E1", "8888.00")])
        took["feed price"] = wait_for(
            "the feed's price in search",
            lambda: (hit := found(stack, "ZX-E2E1")) and hit["price_brl"] == 8888.0,
            120,
            stack,
        )
        wait_for("the feed's runs", lambda: settled(stack), 300, stack)

        # A price in the ERP, read by its sync.
        erp.put_product(DISTRIBUTOR, sku, stock=7, prices={"B1": "7777.00"})
        run_job(stack, "erp_sync")
        took["erp price"] = wait_for(
            "the ERP's price in search",
            lambda: (hit := found(stack, "ZX-E2E1")) and hit["price_brl"] == 7777.0,
            60,
            stack,
        )

        # A price on the Kafka topic.
        price = {"distributor": DISTRIBUTOR, "sku": sku, "price_list": "B1", "price_brl": "6666.00",
                 "updated_at": "2030-01-01T00:00:00+00:00", "version": 1000}  # fmt: skip
        produce(kafka_broker, stack.prices_topic, [(f"{DISTRIBUTOR}/{sku}", price)])
        took["kafka price"] = wait_for(
            "the Kafka price in search",
            lambda: (hit := found(stack, "ZX-E2E1")) and hit["price_brl"] == 6666.0,
            60,
            stack,
        )
        with stack.client() as client:
            in_stock = client.get(
                "/store/helio/search", params={"q": "bateria Zyxwave", "in_stock": "true", "limit": 5}
            ).json()
        assert any(r["model"] == "ZX-E2E1" and r["price_brl"] == 6666.0 for r in in_stock["results"])

        # The product leaves the feed, another comes.
        wait_for("the ERP's runs", lambda: settled(stack), 300, stack)
        write_feed(feed, [battery_row("ZX-E2E2", "5555.00")])
        took["product removed"] = wait_for(
            "a removed product gone",
            lambda: found(stack, "ZX-E2E1") is None,
            300,
            stack,
        )
        wait_for("the other product", lambda: found(stack, "ZX-E2E2"), 300, stack)

        # Documents: one edited, one deleted.
        wait_for("the feed's runs", lambda: settled(stack), 300, stack)
        deleted_question = "Como o convênio ICMS 16/2015 trata a energia compensada?"
        edited_question = (
            "Qual protocolo identifica o pedido de acesso de microgeração junto à distribuidora?"
        )
        assert any("icms-convenio" in cited for cited in cited_sources(stack, deleted_question))
        (stack.docs / EDITED_DOC).write_text(EDITED_TEXT, encoding="utf-8")
        (stack.docs / DELETED_DOC).unlink()
        took["documents"] = wait_for(
            "the edited document cited, the deleted one not",
            lambda: (
                any("Quorvex7731" in cited for cited in cited_sources(stack, edited_question))
                and not any("icms-convenio" in cited for cited in cited_sources(stack, deleted_question))
            ),
            300,
            stack,
        )
        wait_for("the last runs", lambda: settled(stack), 300, stack)
    finally:
        load.stop.set()
        loader.join(timeout=90)
    print(json.dumps({"seconds to visible": took, "search statuses": dict(load.statuses)}))

    # No 5xx (nor an unanswered request) under the load, which really ran.
    assert sum(load.statuses.values()) > 50
    assert set(load.statuses) == {200}, load.statuses

    # Every run succeeded, with its counts; dependants ran after their upstreams; the watches fired.
    history = runs(stack)
    ran = [run for run in history if run["status"] != "skipped"]
    assert {run["status"] for run in ran} == {"succeeded"}, [r for r in ran if r["status"] != "succeeded"]
    assert all(run["read"] is not None for run in ran), ran
    by_job = Counter(run["job"] for run in ran)
    assert set(by_job) == {
        "catalog", "embed_catalog", "knowledge_bases", "tariffs", "erp_sync", "homologacao_ai"
    }  # fmt: skip
    triggers = {(run["job"], run["trigger"]) for run in ran}
    assert {("catalog", "watch"), ("knowledge_bases", "watch"), ("embed_catalog", "upstream")} <= triggers
    assert by_job["embed_catalog"] == by_job["catalog"]  # one embedding run after each catalog run

    # Nothing written twice: one job_runs row per job and submission, one product per model, the Kafka
    # price applied once.
    with stack.db() as conn:
        doubled = conn.execute(
            "SELECT submission_id, job FROM job_runs WHERE submission_id IS NOT NULL "
            "GROUP BY 1, 2 HAVING count(*) > 1"
        ).fetchall()
        models = conn.execute(
            "SELECT model, count(*) FROM products WHERE brand = 'Zyxwave' GROUP BY 1"
        ).fetchall()
        pending = conn.execute("SELECT count(*) FROM offer_changes WHERE applied_at IS NULL").fetchone()
    assert doubled == []
    assert models == [("ZX-E2E2", 1)]
    assert_a_submitted_job_reaches_the_stack(stack)
    assert pending == (0,)
    with stack.client() as client:
        freshness = client.get("/health").json()["freshness"]
    assert {name: status["within_bound"] for name, status in freshness.items()} == {
        "helio-catalog": True,
        "helio-pricing": True,
    }


def assert_a_submitted_job_reaches_the_stack(stack: Stack) -> None:
    """`ray job submit --working-dir .` as the README shows it: the run (in Ray's copy of the checkout)
    reads the stack's feeds and writes the stack's database, which the stack's Ray told it of."""
    address = json.loads((stack.settings.data_dir / "stack.json").read_text())["ray_address"]
    with stack.db() as conn:
        before = conn.execute("SELECT count(*) FROM job_runs WHERE job = 'catalog_etl'").fetchone()
    ray = str(Path(sys.executable).parent / "ray")
    job = [sys.executable, "-m", "ray_jobs.catalog_etl", "--source", str(stack.feeds)]  # the venv's python
    submitted = subprocess.run(
        [ray, "job", "submit", "--address", address, "--working-dir", ".", "--", *job],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "RAY_AUTH_MODE": "disabled"},
    )
    assert submitted.returncode == 0, submitted.stdout[-3000:] + submitted.stderr[-3000:]
    assert "no changes: the catalog already matches the feeds" in submitted.stdout + submitted.stderr
    with stack.db() as conn:
        after = conn.execute("SELECT count(*) FROM job_runs WHERE job = 'catalog_etl'").fetchone()
    assert before is not None and after == (before[0] + 1,)


# What `make run` printed that is neither our progress nor a real problem (issue: a new user's console).
NOISE = ("core_worker.cc", "RuntimeDirWarning", "Progress bars disabled", "Loading weights", "Logging error")


def test_ctrl_c_stops_what_the_stack_started_and_its_output_is_ours(stack: Stack) -> None:
    """Last: Ctrl-C, as a user stops `make run`; its Ray (and every actor and replica in it) is gone, and
    it said so."""
    os.killpg(stack.process.pid, signal.SIGINT)
    assert stack.process.wait(timeout=120) in (0, 130)
    output = stack.log.read_text(encoding="utf-8", errors="replace")
    assert "■ stopping what this run started" in output
    assert "✓ stopped Ray (local)" in output
    assert running_stack_address(stack.settings) is None
    assert not stack_file(stack.settings).exists()
    assert not [noise for noise in NOISE if noise in output], output[-3000:]
