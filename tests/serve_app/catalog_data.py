"""A tiny catalog (`catalog.csv`: 30 products, every category) indexed the way the embedding job does it.

An empty price means no distributor has the product in stock.
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path
from typing import Any

from catalog.documents import index_document, indexed_payload
from catalog.lexical import lexical_vector
from kernel.schemas import CATALOG_COLLECTION, LEXICAL_VECTOR
from kernel.vectors import VectorPoint, VectorStore
from models.embedders import Embedder, EmbedderConfig
from ray_jobs.indexing import catalog_collection

CATALOG_CSV = Path(__file__).with_name("catalog.csv")
AC_VOLTAGE_BY_PHASES = {1: 220, 3: 380}


def _specs(line: dict[str, str]) -> dict[str, Any]:
    specs: dict[str, Any] = {}
    if line["power_w"]:
        specs["power_w"] = float(line["power_w"])
    if line["phases"]:
        specs["phases"] = int(line["phases"])
        specs["ac_voltage_v"] = AC_VOLTAGE_BY_PHASES[specs["phases"]]
    if line["capacity_kwh"]:
        specs["capacity_kwh"] = float(line["capacity_kwh"])
    return specs


def catalog_rows() -> list[dict[str, Any]]:
    """Rows shaped like `catalog_store.catalog_for_index`."""
    with CATALOG_CSV.open(encoding="utf-8", newline="") as file:
        lines = list(csv.DictReader(file))
    rows = []
    for number, line in enumerate(lines, start=1):
        price = float(line["price_brl"]) if line["price_brl"] else None
        distributors = line["distributors"].split()
        rows.append(
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{line['brand']}/{line['model']}")),
                "category": line["category"],
                "brand": line["brand"],
                "model": line["model"],
                "title": line["title"],
                "specs": _specs(line),
                "sku": f"{distributors[0].upper()}-{number:04d}",
                "price_brl": price,
                "lead_time_days": 2 if price is not None else 30,
                "in_stock": price is not None,
                "distributors": distributors,
            }
        )
    return rows


def index_catalog(store: VectorStore, embedder: Embedder, rows: list[dict[str, Any]]) -> None:
    """Create the catalog collection (if needed) and write `rows` with both vectors, as the job does."""
    store.ensure_collection(catalog_collection([EmbedderConfig(vector_name=embedder.name, dim=embedder.dim)]))
    documents = [index_document(row) for row in rows]
    vectors = embedder.embed([document.text for document in documents])
    store.upsert(
        CATALOG_COLLECTION,
        [
            VectorPoint(
                id=document.id,
                dense={embedder.name: vector.tolist()},
                sparse={LEXICAL_VECTOR: lexical_vector(document.text)},
                payload=indexed_payload(document, [embedder.name]),
            )
            for document, vector in zip(documents, vectors, strict=True)
        ],
    )
