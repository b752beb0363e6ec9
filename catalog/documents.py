"""What the catalog index stores per product: the text to embed, the payload search returns, and hashes
that let the embedding job skip what did not change."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from catalog import lexical
from catalog.facets import power_band
from catalog.merge import row_hash

# Portuguese names help the dense model match how customers ask ("painel", "placa", "inversor").
CATEGORY_WORDS: dict[str, str] = {
    "module": "módulo fotovoltaico painel placa solar",
    "inverter": "inversor solar on-grid string",
    "microinverter": "microinversor solar",
    "hybrid_inverter": "inversor híbrido com bateria",
    "battery": "bateria armazenamento de energia",
    "charge_controller": "controlador de carga",
    "kit": "kit gerador fotovoltaico completo",
    "structure": "estrutura de fixação suporte",
    "string_box": "string box caixa de proteção CC",
    "cable": "cabo solar",
    "connector": "conector",
}
PHASE_WORDS = {1: "monofásico", 2: "bifásico", 3: "trifásico"}
INDEX_STATE_FIELDS = ("content_hash", "payload_hash", "embedded_with")


@dataclass(frozen=True)
class IndexDocument:
    id: str
    text: str
    content_hash: str
    payload: dict[str, Any]  # without the bookkeeping fields (hashes, embedded_with)
    payload_hash: str


def _spec_phrases(specs: Mapping[str, Any]) -> list[str]:
    phrases: list[str] = []
    if power := specs.get("power_w"):
        phrases.append(f"{power / 1000:g} kW" if power >= 1000 else f"{power:g} W")
    if phases := specs.get("phases"):
        phrases.append(PHASE_WORDS.get(int(phases), ""))
    if voltage := specs.get("ac_voltage_v"):
        phrases.append(f"{voltage:g} V")
    if capacity := specs.get("capacity_kwh"):
        phrases.append(f"{capacity:g} kWh")
    for key in ("technology", "chemistry", "roof_type"):
        if value := specs.get(key):
            phrases.append(str(value))
    if section := specs.get("section_mm2"):
        phrases.append(f"{section:g} mm²")
    return [p for p in phrases if p]


def product_text(row: Mapping[str, Any]) -> str:
    specs = row.get("specs") or {}
    parts = [
        row["title"],
        CATEGORY_WORDS.get(row["category"], row["category"]),
        f"{row['brand']} {row['model']}",
        *_spec_phrases(specs),
    ]
    return ". ".join(parts)


def index_document(row: Mapping[str, Any]) -> IndexDocument:
    """A row of `catalog_store.catalog_for_index` → what the index holds for it."""
    specs = row.get("specs") or {}
    text = product_text(row)
    payload = {
        "product_id": row["id"],
        "sku": row.get("sku"),
        "title": row["title"],
        "category": row["category"],
        "brand": row["brand"],
        "model": row["model"],
        "power_w": specs.get("power_w"),
        "power_band": power_band(row["category"], specs.get("power_w")),
        "phases": specs.get("phases"),
        "ac_voltage_v": specs.get("ac_voltage_v"),
        "price_brl": row.get("price_brl"),
        "distributors": list(row.get("distributors") or []),
        "in_stock": bool(row.get("in_stock")),
        "lead_time_days": row.get("lead_time_days"),
    }
    return IndexDocument(
        id=row["id"],
        text=text,
        content_hash=row_hash({"text": text, "lexical_analysis": lexical.ANALYSIS}),
        payload=payload,
        payload_hash=row_hash(payload),
    )


@dataclass
class IndexPlan:
    to_embed: list[IndexDocument] = field(default_factory=list)
    to_repayload: list[IndexDocument] = field(default_factory=list)
    to_delete: list[str] = field(default_factory=list)
    unchanged: int = 0


def plan_index_update(
    documents: Iterable[IndexDocument],
    stored: Mapping[str, Mapping[str, Any]],
    vector_names: Sequence[str],
) -> IndexPlan:
    """Embed only what is new, whose text changed, or that lacks a configured model's vector;
    refresh the payload alone when only prices or stock moved; drop what left the catalog."""
    plan = IndexPlan()
    seen: set[str] = set()
    for document in documents:
        seen.add(document.id)
        state = stored.get(document.id)
        if (
            state is None
            or state.get("content_hash") != document.content_hash
            or not set(vector_names) <= set(state.get("embedded_with") or ())
        ):
            plan.to_embed.append(document)
        elif state.get("payload_hash") != document.payload_hash:
            plan.to_repayload.append(document)
        else:
            plan.unchanged += 1
    plan.to_delete = sorted(set(stored) - seen)
    return plan


def indexed_payload(document: IndexDocument, vector_names: Sequence[str]) -> dict[str, Any]:
    return {
        **document.payload,
        "content_hash": document.content_hash,
        "payload_hash": document.payload_hash,
        "embedded_with": sorted(vector_names),
    }
