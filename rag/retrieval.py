"""From index hits to the passages Hélio reads: one text per point whatever its collection, and one
ranking across collections.

Each collection is searched twice — dense (cosine similarity) and lexical (BM25 over analysed terms) —
and every list is fused with weighted reciprocal-rank fusion: the weights say how much a collection the
router picked, and each kind of search, counts. The passage keeps its best cosine similarity as
`score`: unlike a fused rank, it says how
close the passage is to the question, which is what "nothing relevant found" is decided on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kernel.schemas import CATALOG_COLLECTION
from rag.passages import Passage
from rag.pricing import brl

CATEGORY_NAMES = {
    "module": "módulo fotovoltaico",
    "inverter": "inversor",
    "microinverter": "microinversor",
    "hybrid_inverter": "inversor híbrido",
    "battery": "bateria",
    "charge_controller": "controlador de carga",
    "kit": "kit fotovoltaico",
    "structure": "estrutura de fixação",
    "string_box": "string box",
    "cable": "cabo solar",
    "connector": "conector",
}


@dataclass(frozen=True)
class RankedHit:
    """One hit of one search: its collection, rank in that result list (0 = best), and payload."""

    collection: str
    id: str
    rank: int
    payload: Mapping[str, Any]
    similarity: float | None  # cosine, for dense searches; None for lexical ones


def catalog_text(payload: Mapping[str, Any]) -> str:
    """A product as a sentence: what it is, its power, price and stock, who sells it."""
    parts = [f"{payload.get('title', '')} — {CATEGORY_NAMES.get(payload.get('category', ''), 'produto')}"]
    parts.append(f"marca {payload.get('brand', '')}, modelo {payload.get('model', '')}")
    if payload.get("power_w"):
        parts.append(f"potência {payload['power_w']:g} W")
    price = payload.get("price_brl")
    if price is not None:
        stock = "em estoque" if payload.get("in_stock") else "sem estoque no momento"
        parts.append(f"a partir de {brl(float(price))}, {stock}")
    distributors = payload.get("distributors") or []
    if distributors:
        parts.append(f"vendido por {', '.join(distributors)}")
    return "; ".join(parts) + "."


def to_passage(hit: RankedHit, score: float) -> Passage:
    payload = hit.payload
    if hit.collection == CATALOG_COLLECTION:
        return Passage(
            collection=hit.collection,
            id=hit.id,
            title=str(payload.get("title", "")),
            source=f"catalog:{payload.get('product_id', hit.id)}",
            section=str(payload.get("category", "")),
            text=catalog_text(payload),
            score=score,
        )
    # Document passages carry their heading path; an offer, its product's category.
    section = payload.get("section") or payload.get("category") or []
    source = payload.get("source") or f"catalog:{payload.get('product_id', hit.id)}"
    return Passage(
        collection=hit.collection,
        id=hit.id,
        title=str(payload.get("title", "")),
        source=str(source),
        section=" › ".join(section) if isinstance(section, list) else str(section),
        text=str(payload.get("text", "")),
        score=score,
    )


def fuse(
    result_lists: Sequence[tuple[float, Sequence[RankedHit]]], *, rrf_k: int, limit: int
) -> list[Passage]:
    """Weighted RRF over (weight, hits) lists: a point found by several searches adds a term for each,
    `weight / (rrf_k + rank + 1)`; best first, at most `limit`. Ties go to the higher similarity, then
    the id, so the order is reproducible."""
    fused: dict[tuple[str, str], float] = {}
    similarity: dict[tuple[str, str], float] = {}
    first: dict[tuple[str, str], RankedHit] = {}
    for weight, hits in result_lists:
        for hit in hits:
            key = (hit.collection, hit.id)
            fused[key] = fused.get(key, 0.0) + weight / (rrf_k + hit.rank + 1)
            first.setdefault(key, hit)
            if hit.similarity is not None:
                similarity[key] = max(similarity.get(key, hit.similarity), hit.similarity)
    order = sorted(fused, key=lambda key: (-fused[key], -similarity.get(key, 0.0), key))
    return [to_passage(first[key], similarity.get(key, 0.0)) for key in order[:limit]]
