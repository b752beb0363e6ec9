"""What the embedding job embeds again, updates in place, or removes."""

from __future__ import annotations

from typing import Any

import pytest

from catalog import lexical
from catalog.documents import index_document, indexed_payload, plan_index_update, product_text


def catalog_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": "7f1c0f5e-2a5b-5d0e-9c1e-000000000001",
        "category": "inverter",
        "brand": "Growatt",
        "model": "MIN 5000TL-X",
        "title": "Inversor Growatt MIN 5000TL-X",
        "specs": {"power_w": 5000.0, "phases": 1, "ac_voltage_v": 220},
        "sku": "G-5000",
        "price_brl": 4200.0,
        "lead_time_days": 2,
        "in_stock": True,
        "distributors": ["alfa", "beta"],
    }
    row.update(overrides)
    return row


def test_product_text_speaks_the_customers_language() -> None:
    text = product_text(catalog_row())
    for expected in ("inversor", "Growatt MIN 5000TL-X", "5 kW", "monofásico", "220 V"):
        assert expected in text


def stored_from(row: dict[str, Any], names: list[str]) -> dict[str, dict[str, Any]]:
    document = index_document(row)
    return {document.id: indexed_payload(document, names)}


@pytest.mark.parametrize(
    ("incoming", "names", "expected"),
    [
        (catalog_row(), ["minilm-l6"], (0, 0, 0, 1)),
        (catalog_row(price_brl=3999.0, in_stock=False), ["minilm-l6"], (0, 1, 0, 0)),
        (catalog_row(title="Inversor Growatt MIN 5000TL-X (novo)"), ["minilm-l6"], (1, 0, 0, 0)),
        (catalog_row(), ["minilm-l6", "openai-3-small"], (1, 0, 0, 0)),  # a model added: fill its vector
        (catalog_row(id="7f1c0f5e-2a5b-5d0e-9c1e-000000000002"), ["minilm-l6"], (1, 0, 1, 0)),
    ],
    ids=["unchanged", "price-only", "text-changed", "model-added", "replaced-product"],
)
def test_plan_index_update(incoming: dict[str, Any], names: list[str], expected: tuple[int, ...]) -> None:
    stored = stored_from(catalog_row(), ["minilm-l6"])
    plan = plan_index_update([index_document(incoming)], stored, names)
    assert (len(plan.to_embed), len(plan.to_repayload), len(plan.to_delete), plan.unchanged) == expected


def test_a_new_lexical_analysis_indexes_every_product_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Queries are analysed the new way at once; the index's sparse vectors must follow, not linger."""
    stored = stored_from(catalog_row(), ["minilm-l6"])
    monkeypatch.setattr(lexical, "ANALYSIS", f"{lexical.ANALYSIS}-next")
    plan = plan_index_update([index_document(catalog_row())], stored, ["minilm-l6"])
    assert (len(plan.to_embed), plan.unchanged) == (1, 0)
