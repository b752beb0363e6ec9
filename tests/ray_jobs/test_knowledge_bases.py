"""The knowledge-bases job: real MiniLM, Qdrant Edge, Postgres, moto's S3; incremental, watched, priced."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from qdrant_client import QdrantClient

from catalog.lexical import lexical_vector
from common import postgres
from common.resources import Resources
from common.settings import Settings
from common.vectors.edge import EdgeVectorStore
from common.vectors.server import QdrantServerVectorStore
from kernel.schemas import (
    CATALOG_COLLECTION,
    LEXICAL_VECTOR,
    PRICING_COLLECTION,
    REGULATORY_COLLECTION,
    SALES_COLLECTION,
    TECHNICAL_COLLECTION,
)
from kernel.vectors import CollectionSpec, SearchRequest, VectorPoint, VectorStore
from models.embedders import EmbedderConfig, SentenceTransformerEmbedder
from ray_jobs import knowledge_bases
from ray_jobs.indexing import catalog_collection
from ray_jobs.knowledge_bases import KnowledgeJobConfig, TextEncoder
from tests.conftest import S3
from tests.rag.test_documents import make_pdf

LEI = """# Lei 14.300

Institui o marco legal da microgeração e minigeração distribuída.

## Créditos

Os créditos de energia excedente valem por 60 meses na conta do consumidor.

## Fio B

A TUSD fio B passa a ser paga aos poucos sobre a energia compensada.
"""

GOOD = {
    "README.md": b"# Corpus\n\nNot a document: files at the root feed no collection.\n",
    "regulatory/lei-14300.md": LEI.encode(),
    "regulatory/limites.txt": "Limites\n\nMicrogeração vai até 75 kW de potência instalada.\n".encode(),
    "technical/manual.pdf": make_pdf(["Manual do inversor", "Instale o inversor à sombra, com ventilação."]),
    "technical/string-box.html": (
        "<html><head><title>String box</title></head><body><nav>menu</nav><h1>String box</h1>"
        "<p>A string box protege o lado CC com fusíveis e DPS.</p></body></html>"
    ).encode(),
    "sales/argumentos.md": "# Argumentos de venda\n\nO payback típico fica entre 3 e 5 anos.\n".encode(),
}
BAD = {
    "technical/corrompido.pdf": (b"%PDF-1.4\n1 0 obj << /Type /Catalog", "unreadable_pdf"),
    "technical/escaneado.pdf": (make_pdf([]), "no_text"),
    "sales/latin1.txt": ("Proposta comercial de instalação".encode("latin-1"), "bad_encoding"),
    "sales/vazio.md": (b"", "empty_file"),
    "sales/tabela.xlsx": (b"PK\x03\x04", "unsupported_extension"),
}
DOCUMENTS = (REGULATORY_COLLECTION, TECHNICAL_COLLECTION, SALES_COLLECTION)


def write_corpus(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    write_corpus(root, {**GOOD, **{name: data for name, (data, _) in BAD.items()}})
    return root


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EdgeVectorStore]:
    edge = EdgeVectorStore(tmp_path / "qdrant")
    yield edge
    edge.close()


def job_config(source: str, **changes: Any) -> KnowledgeJobConfig:
    return KnowledgeJobConfig.model_validate(
        {"source": source, "chunking": {"chunk_words": 40, "overlap_words": 8}, "pricing": False, **changes}
    )


def points(store: VectorStore, collection: str) -> dict[str, dict[str, Any]]:
    return dict(store.scan(collection, ["source", "section", "text"]))


def ask(store: VectorStore, model: SentenceTransformerEmbedder, collection: str, question: str) -> list[Any]:
    request = SearchRequest(
        limit=3,
        dense_name=model.name,
        dense=model.embed([question])[0].tolist(),
        sparse_name=LEXICAL_VECTOR,
        sparse=lexical_vector(question),
    )
    return store.search(collection, request)


def rows(settings: Settings, sql: str) -> list[dict[str, Any]]:
    with postgres.connect(settings.database_url or "") as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.usefixtures("ray_session")
def test_indexes_every_format_then_nothing_then_exactly_the_edits(
    fresh_settings: Settings, corpus: Path, store: EdgeVectorStore, minilm: SentenceTransformerEmbedder
) -> None:
    # The first run goes through the Ray Data actor pool, the later ones through the in-process model.
    pooled = job_config(str(corpus), inline_max_texts=0, embed={"max_actors": 1})
    first = knowledge_bases.run(pooled, Resources(fresh_settings, vectors=store))
    assert {c: (first[c]["added"], first[c]["rejected"]) for c in DOCUMENTS} == {
        REGULATORY_COLLECTION: (3 + 1, 0),  # lei: intro, créditos, fio B; limites: one chunk
        TECHNICAL_COLLECTION: (2, 2),
        SALES_COLLECTION: (1, 3),
    }
    sources = {c: sorted({p["source"] for p in points(store, c).values()}) for c in DOCUMENTS}
    assert sources == {
        REGULATORY_COLLECTION: ["regulatory/lei-14300.md", "regulatory/limites.txt"],
        TECHNICAL_COLLECTION: ["technical/manual.pdf", "technical/string-box.html"],
        SALES_COLLECTION: ["sales/argumentos.md"],
    }
    hit = ask(store, minilm, REGULATORY_COLLECTION, "por quantos meses valem os créditos de energia?")[0]
    assert (hit.payload["source"], hit.payload["section"]) == (
        "regulatory/lei-14300.md",
        ["Lei 14.300", "Créditos"],
    )
    assert hit.payload["title"] == "Lei 14.300" and hit.payload["embedded_with"] == ["minilm-l6"]

    encoder = TextEncoder(job_config(str(corpus)), fresh_settings, local=[minilm])
    before = {c: points(store, c) for c in DOCUMENTS}
    second = knowledge_bases.run(
        job_config(str(corpus)), Resources(fresh_settings, vectors=store), encoder=encoder
    )
    assert all(second[c]["added"] == second[c]["updated"] == second[c]["removed"] == 0 for c in DOCUMENTS)
    assert sum(second[c]["unchanged"] for c in DOCUMENTS) == 7

    # Edit one section, delete one document, break one that was indexed.
    (corpus / "regulatory/lei-14300.md").write_text(LEI.replace("60 meses", "cinco anos"), encoding="utf-8")
    (corpus / "sales/argumentos.md").unlink()
    (corpus / "technical/string-box.html").write_bytes("<p>proteção</p>".encode("cp1252"))
    third = knowledge_bases.run(
        job_config(str(corpus)), Resources(fresh_settings, vectors=store), encoder=encoder
    )
    assert {c: (third[c]["added"], third[c]["updated"], third[c]["removed"]) for c in DOCUMENTS} == {
        REGULATORY_COLLECTION: (0, 1, 1),
        TECHNICAL_COLLECTION: (0, 0, 0),  # the broken document keeps its chunks until it reads again
        SALES_COLLECTION: (0, 0, 1),
    }
    after = points(store, REGULATORY_COLLECTION)
    replaced = set(before[REGULATORY_COLLECTION]) - set(after)
    assert [before[REGULATORY_COLLECTION][i]["section"] for i in replaced] == [["Lei 14.300", "Créditos"]]
    assert len(set(after) & set(before[REGULATORY_COLLECTION])) == 3  # the other chunks kept their ids
    assert points(store, TECHNICAL_COLLECTION) == before[TECHNICAL_COLLECTION]
    assert store.count(SALES_COLLECTION) == 0
    hit = ask(store, minilm, REGULATORY_COLLECTION, "por quanto tempo valem os créditos?")[0]
    assert "cinco anos" in hit.payload["text"]

    rejects = rows(
        fresh_settings, "SELECT source, reason, first_seen_run, last_seen_run FROM document_rejects"
    )
    assert sorted((r["source"], r["reason"]) for r in rejects) == sorted(
        [(name, reason) for name, (_, reason) in BAD.items()]
        + [("technical/string-box.html", "bad_encoding")]
    )
    runs = rows(
        fresh_settings, "SELECT id, status, counts FROM job_runs WHERE job = 'knowledge_bases' ORDER BY id"
    )
    assert [r["status"] for r in runs] == ["succeeded"] * 3
    assert runs[2]["counts"][SALES_COLLECTION]["removed"] == 1
    first_seen = {r["source"]: (r["first_seen_run"], r["last_seen_run"]) for r in rejects}
    assert first_seen["sales/vazio.md"] == (runs[0]["id"], runs[2]["id"])  # kept once, seen again


def test_reads_documents_from_s3(
    fresh_settings: Settings, s3: S3, store: EdgeVectorStore, minilm: SentenceTransformerEmbedder
) -> None:
    client = s3.client()
    client.create_bucket(Bucket="kb-docs")
    files = {
        "regulatory/limites.txt": GOOD["regulatory/limites.txt"],
        "technical/manual.pdf": GOOD["technical/manual.pdf"],
        "sales/latin1.txt": BAD["sales/latin1.txt"][0],
    }
    for name, data in files.items():
        client.put_object(Bucket="kb-docs", Key=f"base/{name}", Body=data)
    settings = s3.settings(fresh_settings)
    config = job_config("s3://kb-docs/base")
    counts = knowledge_bases.run(
        config, Resources(settings, vectors=store), encoder=TextEncoder(config, settings, local=[minilm])
    )
    assert [counts[c]["added"] for c in DOCUMENTS] == [1, 1, 0]
    assert {p["source"] for p in points(store, TECHNICAL_COLLECTION).values()} == {"technical/manual.pdf"}
    assert [r["source"] for r in rows(settings, "SELECT source FROM document_rejects")] == [
        "sales/latin1.txt"
    ]

    client.delete_object(Bucket="kb-docs", Key="base/technical/manual.pdf")
    again = knowledge_bases.run(
        config, Resources(settings, vectors=store), encoder=TextEncoder(config, settings, local=[minilm])
    )
    assert again[TECHNICAL_COLLECTION]["removed"] == 1 and store.count(TECHNICAL_COLLECTION) == 0


def store_scan(store: VectorStore, collection: str) -> list[dict[str, Any]]:
    try:
        return [payload for _, payload in store.scan(collection, ["sku", "price_brl"])]
    except LookupError:  # not created yet
        return []


def wait_for(condition: Callable[[], bool]) -> None:
    """Until the watcher reflected the change; the deadline only ends a hung test. How fast it reflects
    a change is measured by `make bench` (scripts/bench_freshness.py), not here."""
    deadline = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < deadline, "never reflected"
        time.sleep(0.1)


def test_watch_reflects_additions_changes_and_deletions_and_survives_errors(
    fresh_settings: Settings,
    tmp_path: Path,
    store: EdgeVectorStore,
    minilm: SentenceTransformerEmbedder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    root = tmp_path / "watched"
    write_corpus(root, {"sales/argumentos.md": GOOD["sales/argumentos.md"]})
    seed_catalog(fresh_settings)
    store.ensure_collection(catalog_collection([EmbedderConfig()]))
    store.upsert(
        CATALOG_COLLECTION,
        [catalog_point(pid, minilm.embed([title])[0].tolist()) for pid, title, _ in PRODUCTS],
    )
    config = job_config(str(root), poll_interval_s=0.2, pricing=True, pricing_interval_s=0.5)
    stop = threading.Event()
    watcher = threading.Thread(
        target=knowledge_bases.watch,
        args=(
            config,
            Resources(fresh_settings, vectors=store),
            stop,
            TextEncoder(config, fresh_settings, local=[minilm]),
        ),
    )
    watcher.start()
    try:

        def texts(collection: str) -> dict[str, str]:
            try:
                return {p["source"]: p["text"] for p in points(store, collection).values()}
            except LookupError:  # the first cycle has not created the collection yet
                return {}

        wait_for(lambda: "sales/argumentos.md" in texts(SALES_COLLECTION))
        write_corpus(root, {"technical/manual.pdf": GOOD["technical/manual.pdf"]})
        wait_for(lambda: "technical/manual.pdf" in texts(TECHNICAL_COLLECTION))
        write_corpus(
            root, {"sales/argumentos.md": "# Argumentos\n\nFinanciamento em até 120 meses.\n".encode()}
        )
        wait_for(lambda: "120 meses" in texts(SALES_COLLECTION).get("sales/argumentos.md", ""))
        assert store.count(SALES_COLLECTION) == 1

        def price(sku: str) -> float | None:
            found = [p["price_brl"] for p in store_scan(store, PRICING_COLLECTION) if p["sku"] == sku]
            return found[0] if found else None

        wait_for(lambda: price("A-1") == 4321.5)
        with psycopg.connect(fresh_settings.database_url or "") as conn:
            conn.execute("UPDATE offers SET price_brl = 3999.90 WHERE sku = 'A-1'")
        wait_for(lambda: price("A-1") == 3999.9)

        hidden = tmp_path / "away"
        root.rename(hidden)  # the folder vanishes: cycles fail, nothing is removed, the loop goes on
        wait_for(lambda: "knowledge-bases sync failed" in caplog.text)
        assert store.count(TECHNICAL_COLLECTION) == 1
        hidden.rename(root)
        (root / "technical/manual.pdf").unlink()
        wait_for(lambda: store.count(TECHNICAL_COLLECTION) == 0)
        assert watcher.is_alive()
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert not watcher.is_alive()
    runs = rows(fresh_settings, "SELECT counts FROM job_runs WHERE job = 'knowledge_bases'")
    assert 4 <= len(runs) <= 8  # cycles that changed something, not one per poll


def seed_catalog(settings: Settings) -> None:
    with postgres.connect(settings.database_url or "") as conn:
        postgres.migrate(conn)
        with conn.transaction():
            for pid, title, brand in PRODUCTS:
                conn.execute(
                    "INSERT INTO products (id, category, brand, model, title, row_hash) "
                    "VALUES (%s, 'inverter', %s, %s, %s, 'h')",
                    (pid, brand, title.split()[-1], title),
                )
            for pid, distributor, sku, price, stock in OFFERS:
                conn.execute(
                    "INSERT INTO offers (distributor, sku, product_id, source_file, price_brl, stock, "
                    "lead_time_days, row_hash) VALUES (%s, %s, %s, 'f.csv', %s, %s, 0, 'h')",
                    (distributor, sku, pid, price, stock),
                )


P1, P2, P3 = (f"00000000-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))
PRODUCTS = [(P1, "Inversor Growatt 5 kW MIN5000", "Growatt"), (P2, "Inversor Deye 8 kW SUN8K", "Deye")]
PRODUCTS += [(P3, "Microinversor Hoymiles HM1500", "Hoymiles")]
OFFERS = [
    (P1, "Aldo Solar", "A-1", 4321.5, 12),
    (P1, "Belenergy", "B-1", 4190.0, 0),
    (P2, "Aldo Solar", "A-2", 7990.0, 3),
    (P3, "Belenergy", "B-3", 1500.0, 5),
]


def catalog_point(pid: str, vector: list[float]) -> VectorPoint:
    return VectorPoint(
        id=pid,
        dense={"minilm-l6": vector},
        payload={"content_hash": f"c-{pid}", "embedded_with": ["minilm-l6"]},
    )


def test_pricing_reuses_catalog_vectors_and_follows_offers(
    fresh_settings: Settings, tmp_path: Path, store: EdgeVectorStore, minilm: SentenceTransformerEmbedder
) -> None:
    seed_catalog(fresh_settings)
    store.ensure_collection(catalog_collection([EmbedderConfig()]))
    vectors = {pid: minilm.embed([title])[0].tolist() for pid, title, _ in PRODUCTS}
    store.upsert(
        CATALOG_COLLECTION, [catalog_point(P1, vectors[P1]), catalog_point(P2, vectors[P2])]
    )  # P3 not yet
    (tmp_path / "empty").mkdir()
    config = job_config(str(tmp_path / "empty"), pricing=True)
    encoder = TextEncoder(config, fresh_settings, local=[minilm])

    first = knowledge_bases.run(config, Resources(fresh_settings, vectors=store), encoder=encoder)[
        PRICING_COLLECTION
    ]
    assert (first["added"], first["no_vector"]) == (3, 1)
    priced = dict(store.scan(PRICING_COLLECTION, ["product_id", "distributor", "text", "price_brl"]))
    stored = store.vectors(PRICING_COLLECTION, sorted(priced), ["minilm-l6"])
    catalog = store.vectors(CATALOG_COLLECTION, [P1, P2], ["minilm-l6"])
    for point_id, payload in priced.items():  # each passage carries its product's catalog vector
        assert stored[point_id] == catalog[payload["product_id"]]
    texts = sorted(p["text"] for p in priced.values())
    assert texts[0].startswith(
        "Inversor Deye 8 kW SUN8K (Deye, SKU A-2) na Aldo Solar: R$ 7.990,00, estoque 3 un."
    )
    hits = store.search(
        PRICING_COLLECTION,
        SearchRequest(
            limit=2,
            dense_name="minilm-l6",
            dense=minilm.embed(["quanto custa o inversor Growatt 5 kW na Belenergy?"])[0].tolist(),
            sparse_name=LEXICAL_VECTOR,
            sparse=lexical_vector("quanto custa o inversor Growatt 5 kW na Belenergy?"),
        ),
    )
    assert [(h.payload["product_id"], h.payload["distributor"]) for h in hits] == [
        (P1, "Belenergy"),
        (P1, "Aldo Solar"),
    ]

    second = knowledge_bases.run(config, Resources(fresh_settings, vectors=store), encoder=encoder)[
        PRICING_COLLECTION
    ]
    assert (second["added"], second["updated"], second["removed"], second["unchanged"]) == (0, 0, 0, 3)

    with psycopg.connect(fresh_settings.database_url or "") as conn:
        conn.execute("UPDATE offers SET price_brl = 3999.90, updated_at = now() WHERE sku = 'A-1'")
        conn.execute("DELETE FROM offers WHERE sku = 'A-2'")
    store.upsert(CATALOG_COLLECTION, [catalog_point(P3, vectors[P3])])  # the catalog job embedded P3
    third = knowledge_bases.run(config, Resources(fresh_settings, vectors=store), encoder=encoder)[
        PRICING_COLLECTION
    ]
    assert {k: third[k] for k in ("added", "updated", "removed", "unchanged", "no_vector")} == {
        "added": 1,
        "updated": 1,
        "removed": 1,
        "unchanged": 1,
        "no_vector": 0,
    }
    by_sku = {
        p["sku"]: p for p in dict(store.scan(PRICING_COLLECTION, ["sku", "price_brl", "text"])).values()
    }
    assert sorted(by_sku) == ["A-1", "B-1", "B-3"]
    assert by_sku["A-1"]["price_brl"] == pytest.approx(3999.9) and "R$ 3.999,90" in by_sku["A-1"]["text"]
    runs = rows(fresh_settings, "SELECT counts FROM job_runs WHERE job = 'knowledge_bases' ORDER BY id")
    assert json.loads(json.dumps(runs[-1]["counts"]))[PRICING_COLLECTION]["updated"] == 1


@pytest.mark.parametrize("backend", ["edge", "server"])
def test_both_backends_give_back_stored_vectors(backend: str, tmp_path: Path) -> None:
    store: VectorStore = (
        EdgeVectorStore(tmp_path / "q")
        if backend == "edge"
        else QdrantServerVectorStore(QdrantClient(":memory:"))
    )
    store.ensure_collection(CollectionSpec("c", dense={"a": 2, "b": 2}, sparse=(LEXICAL_VECTOR,)))
    store.upsert("c", [VectorPoint(P1, dense={"a": [0.6, 0.8], "b": [1.0, 0.0]})])
    assert store.vectors("c", [P1, P2], ["a"]) == {P1: {"a": pytest.approx([0.6, 0.8])}}
    assert store.vectors("c", [], ["a"]) == {}
    store.close()
