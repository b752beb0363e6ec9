"""Pricing passages: one Portuguese sentence per offer, and the plan that follows offer changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kernel.schemas import Offer, Product
from rag.pricing import brl, passage_text, plan_pricing, pricing_passage, pricing_passages

PRODUCT = Product(
    id="p1", category="inverter", brand="Growatt", model="MIN 5000TL-X", title="Inversor Growatt 5 kW"
)


def offer(**changes: object) -> Offer:
    values: dict[str, object] = {
        "product_id": "p1",
        "distributor": "Aldo Solar",
        "sku": "GW-5K",
        "price_brl": 4321.5,
        "stock": 12,
        "lead_time_days": 3,
        "updated_at": datetime(2026, 11, 20, 14, 5, tzinfo=UTC),
    }
    return Offer.model_validate({**values, **changes})


@pytest.mark.parametrize(
    ("value", "written"),
    [(0, "R$ 0,00"), (9.9, "R$ 9,90"), (1234.56, "R$ 1.234,56"), (1234567.891, "R$ 1.234.567,89")],
)
def test_brl(value: float, written: str) -> None:
    assert brl(value) == written


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        (
            {},
            "Inversor Growatt 5 kW (Growatt, SKU GW-5K) na Aldo Solar: R$ 4.321,50, estoque 12 un., "
            "atualizado em 2026-11-20.",
        ),
        (
            {"stock": 0, "lead_time_days": 15},
            "Inversor Growatt 5 kW (Growatt, SKU GW-5K) na Aldo Solar: R$ 4.321,50, "
            "sem estoque (prazo de 15 dias), atualizado em 2026-11-20.",
        ),
        (
            {"price_brl": None, "updated_at": None},
            "Inversor Growatt 5 kW (Growatt, SKU GW-5K) na Aldo Solar: sem preço informado, estoque 12 un.",
        ),
    ],
)
def test_passage_text(changes: dict[str, object], text: str) -> None:
    assert passage_text(PRODUCT, offer(**changes)) == text


def test_an_offer_keeps_its_id_while_its_facts_change() -> None:
    before, after = pricing_passage(PRODUCT, offer()), pricing_passage(PRODUCT, offer(price_brl=3999.0))
    assert before.id == after.id and before.content_hash != after.content_hash
    assert pricing_passage(PRODUCT, offer(distributor="Other")).id != before.id
    assert after.payload["price_brl"] == 3999.0 and after.payload["distributor"] == "Aldo Solar"


def test_offers_of_unknown_products_are_left_out() -> None:
    assert [
        p.payload["sku"] for p in pricing_passages([PRODUCT], [offer(), offer(product_id="p2", sku="X")])
    ] == ["GW-5K"]


def test_plan_follows_offer_and_catalog_changes() -> None:
    same, repriced, new = offer(sku="A"), offer(sku="B", price_brl=1.0), offer(sku="C")
    waiting = offer(product_id="p2", sku="D")
    other = Product(id="p2", category="module", brand="X", model="Y", title="Painel")
    gone_id = pricing_passage(PRODUCT, offer(sku="GONE")).id
    stored = {
        pricing_passage(PRODUCT, same).id: {
            "content_hash": pricing_passage(PRODUCT, same).content_hash,
            "catalog_hash": "c1",
        },
        pricing_passage(PRODUCT, repriced).id: {"content_hash": "stale", "catalog_hash": "c1"},
        gone_id: {"content_hash": "x", "catalog_hash": "c1"},
    }
    passages = pricing_passages([PRODUCT, other], [same, repriced, new, waiting])
    plan = plan_pricing(passages, stored, {"p1": "c1"})
    assert [p.payload["sku"] for p in plan.to_write] == ["B", "C"]
    assert (plan.added, plan.updated, plan.unchanged, plan.no_vector) == (1, 1, 1, 1)
    assert plan.to_delete == [gone_id]

    reembedded = plan_pricing(passages, stored, {"p1": "c2", "p2": "c9"})  # the catalog re-embedded p1
    assert {p.payload["sku"] for p in reembedded.to_write} == {"A", "B", "C", "D"}
