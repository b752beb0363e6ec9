"""Hits of several searches fused into one ranked list of passages."""

from __future__ import annotations

from typing import Any

import pytest

from kernel.schemas import CATALOG_COLLECTION, REGULATORY_COLLECTION, TECHNICAL_COLLECTION
from rag.retrieval import RankedHit, catalog_text, fuse, to_passage

DOC = {
    "source": "regulatory/fio-b.md",
    "title": "Fio B",
    "section": ["Fio B", "Transição"],
    "text": "O Fio B…",
}


def hits(collection: str, ids: list[str], similarity: list[float] | None = None) -> list[RankedHit]:
    return [
        RankedHit(collection, point, rank, DOC, similarity[rank] if similarity else None)
        for rank, point in enumerate(ids)
    ]


def test_a_point_both_searches_found_comes_first() -> None:
    dense = hits(REGULATORY_COLLECTION, ["a", "b", "c"], [0.8, 0.7, 0.6])
    lexical = hits(REGULATORY_COLLECTION, ["c", "d"])
    fused = fuse([(1.0, dense), (1.0, lexical)], rrf_k=2, limit=10)
    assert [p.id for p in fused] == ["c", "a", "b", "d"]  # c: 1/5 + 1/3; a: 1/3; b: 1/4; d: 1/4 (lower sim)
    assert [p.score for p in fused] == [0.6, 0.8, 0.7, 0.0]  # cosine kept; lexical-only: 0


def test_collections_compete_and_the_limit_applies() -> None:
    fused = fuse(
        [(1.0, hits(REGULATORY_COLLECTION, ["a"], [0.5])), (1.0, hits(TECHNICAL_COLLECTION, ["a"], [0.9]))],
        rrf_k=2,
        limit=1,
    )
    assert [(p.collection, p.id) for p in fused] == [
        (TECHNICAL_COLLECTION, "a")
    ]  # same rank: higher similarity


def test_document_passages_keep_their_heading_path() -> None:
    passage = to_passage(RankedHit(REGULATORY_COLLECTION, "x", 0, DOC, 0.5), 0.5)
    assert (passage.source, passage.section, passage.text) == (
        "regulatory/fio-b.md",
        "Fio B › Transição",
        "O Fio B…",
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {
                "title": "Inversor X 5 kW",
                "category": "inverter",
                "brand": "Growatt",
                "model": "X5",
                "power_w": 5000,
                "price_brl": 4321.5,
                "in_stock": True,
                "distributors": ["Aldo", "WEG"],
            },
            "Inversor X 5 kW — inversor; marca Growatt, modelo X5; potência 5000 W; a partir de R$ 4.321,50, "
            "em estoque; vendido por Aldo, WEG.",
        ),
        (
            {
                "title": "Cabo 6 mm",
                "category": "cable",
                "brand": "Prysmian",
                "model": "C6",
                "price_brl": None,
            },
            "Cabo 6 mm — cabo solar; marca Prysmian, modelo C6.",
        ),
    ],
)
def test_catalog_hits_read_as_sentences(payload: dict[str, Any], expected: str) -> None:
    assert catalog_text(payload) == expected
    passage = to_passage(RankedHit(CATALOG_COLLECTION, "p1", 0, {**payload, "product_id": "p1"}, 0.4), 0.4)
    assert passage.source == "catalog:p1" and passage.text == expected


def test_weights_scale_a_lists_terms() -> None:
    primary = hits(REGULATORY_COLLECTION, ["a"], [0.5])
    secondary = hits(TECHNICAL_COLLECTION, ["b", "c"], [0.9, 0.8])
    fused = fuse([(1.0, primary), (0.5, secondary)], rrf_k=2, limit=3)
    assert [p.id for p in fused] == ["a", "b", "c"]  # 1/3 beats 0.5/3 and 0.5/4
