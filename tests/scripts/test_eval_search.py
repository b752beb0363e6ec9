"""The search eval's relevance set, its ESCI grading from stored fields, and its nDCG@10 / P@5 arithmetic,
on hand-made products and result lists: no catalog, index or service."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from kernel.schemas import CATEGORIES
from scripts.eval_search import (
    EXACT,
    IRRELEVANT,
    SUBSTITUTE,
    Grade,
    Intent,
    LabelledQuery,
    grade,
    judge,
    load_queries,
    ndcg_at,
    precision_at,
    report,
)


def product(category: str, brand: str = "Acme", model: str = "X-1", **specs: Any) -> dict[str, Any]:
    return {
        "id": f"{brand}-{model}",
        "category": category,
        "brand": brand,
        "model": model,
        "specs": specs,
        "in_stock": specs.pop("in_stock", True),
    }


MODULE_550 = Intent(category="module", power_w=550)
INVERTER_5K_MONO = Intent(category="inverter", brand="Growatt", power_w=5000, phases=1)


@pytest.mark.parametrize(
    ("intent", "item", "expected"),
    [
        # power: ±2 % exact for a module, ±25 % a substitute, beyond that irrelevant
        (MODULE_550, product("module", power_w=550.0), EXACT),
        (MODULE_550, product("module", power_w=560.0), EXACT),
        (MODULE_550, product("module", power_w=575.0), SUBSTITUTE),
        (MODULE_550, product("module", power_w=680.0), SUBSTITUTE),
        (MODULE_550, product("module", power_w=700.0), IRRELEVANT),
        (MODULE_550, product("module"), SUBSTITUTE),  # no power stated: cannot be proven either way
        (MODULE_550, product("inverter", power_w=550.0), IRRELEVANT),  # another category
        # ±5 % for the other categories; another brand is a substitute; phases must match
        (INVERTER_5K_MONO, product("inverter", "Growatt", power_w=4800.0, phases=1), EXACT),
        (INVERTER_5K_MONO, product("inverter", "GROWATT", power_w=5000.0, phases=1), EXACT),
        (INVERTER_5K_MONO, product("inverter", "Fronius", power_w=5000.0, phases=1), SUBSTITUTE),
        (INVERTER_5K_MONO, product("inverter", "Growatt", power_w=4600.0, phases=1), SUBSTITUTE),
        (INVERTER_5K_MONO, product("inverter", "Growatt", power_w=5000.0, phases=2), IRRELEVANT),
        (INVERTER_5K_MONO, product("hybrid_inverter", "Growatt", power_w=5000.0, phases=1), IRRELEVANT),
        # roof type is hard; a structure's slots (only in its code) soft
        (
            Intent(category="structure", roof_type="ceramico", model_has="-4m-"),
            product("structure", model="RMG-CER-4M-R-AL", roof_type="ceramico"),
            EXACT,
        ),
        (
            Intent(category="structure", roof_type="ceramico", model_has="-4m-"),
            product("structure", model="RMG-CER-6M-R-AL", roof_type="ceramico"),
            SUBSTITUTE,
        ),
        (
            Intent(category="structure", roof_type="ceramico"),
            product("structure", model="RMG-MET-4M-R-AL", roof_type="metalico"),
            IRRELEVANT,
        ),
        # battery: capacity ±5 %, a "48 V" battery may be 51.2 V, chemistry soft
        (
            Intent(category="battery", capacity_kwh=5, voltage_v=48, chemistry="lifepo4"),
            product("battery", capacity_kwh=5.12, voltage_v=51.2, chemistry="lifepo4"),
            EXACT,
        ),
        (
            Intent(category="battery", capacity_kwh=5, chemistry="lifepo4"),
            product("battery", capacity_kwh=5.12, chemistry="lead_acid"),
            SUBSTITUTE,
        ),
        (Intent(category="battery", capacity_kwh=10), product("battery", capacity_kwh=12.8), IRRELEVANT),
        # cable section equal, or a substitute
        (Intent(category="cable", section_mm2=6), product("cable", section_mm2=6.0, length_m=50.0), EXACT),
        (Intent(category="cable", section_mm2=6), product("cable", section_mm2=4.0), SUBSTITUTE),
        # a whole model code, written any way
        (
            Intent(category="inverter", model="SUN-5K-G03"),
            product("inverter", "Deye", "sun 5k g03"),
            EXACT,
        ),
        (
            Intent(category="inverter", model="SUN-5K-G03"),
            product("inverter", "Deye", "SUN-6K-G03"),
            SUBSTITUTE,
        ),
        # out of stock when "em estoque" was asked
        (Intent(category="inverter", in_stock=True), product("inverter", in_stock=False), SUBSTITUTE),
        # a brand typed alone: that brand, whatever the category; nothing else is a substitute
        (Intent(brand="WEG"), product("cable", "WEG"), EXACT),
        (Intent(brand="WEG"), product("cable", "Prysmian"), IRRELEVANT),
    ],
)
def test_grades_come_from_stored_fields(intent: Intent, item: dict[str, Any], expected: Grade) -> None:
    assert grade(intent, item) == expected


def test_a_kit_is_of_the_brand_of_its_modules_or_inverter() -> None:
    kit = product(
        "kit",
        "Sol Forte",
        power_w=5000.0,
        components=[
            {"category": "module", "brand": "Jinko Solar", "model": "JKM", "quantity": 10},
            {"category": "inverter", "brand": "Growatt", "model": "MIN", "quantity": 1},
            {"category": "cable", "brand": "WEG", "model": "C", "quantity": 2},
        ],
    )
    for brand in ("Sol Forte", "Growatt", "Jinko Solar"):
        assert grade(Intent(category="kit", brand=brand, power_w=5000), kit) == EXACT
    assert grade(Intent(category="kit", brand="WEG", power_w=5000), kit) == SUBSTITUTE  # its cable's maker


def dcg(gains: list[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def test_ndcg_takes_its_ideal_from_the_catalog_not_from_what_was_returned() -> None:
    catalog: list[Grade] = [EXACT] * 3 + [SUBSTITUTE] * 20 + [IRRELEVANT] * 100
    ideal = dcg([1.0, 1.0, 1.0] + [0.1] * 7)
    assert ndcg_at(10, [EXACT, EXACT, EXACT] + [SUBSTITUTE] * 7, catalog) == pytest.approx(1.0)
    # one exact product, first: perfect within what was returned, not against the catalog
    assert ndcg_at(10, [EXACT], catalog) == pytest.approx(1.0 / ideal)
    returned: list[Grade] = [SUBSTITUTE, EXACT, IRRELEVANT, EXACT, SUBSTITUTE]
    assert ndcg_at(10, returned, catalog) == pytest.approx(dcg([0.1, 1.0, 0.0, 1.0, 0.1]) / ideal)
    assert ndcg_at(10, [EXACT] * 12, [EXACT] * 12) == pytest.approx(1.0)  # only the first ten count
    assert ndcg_at(10, [IRRELEVANT], [IRRELEVANT]) == 0.0


def test_precision_at_5_counts_exact_only_over_what_the_catalog_can_give() -> None:
    assert precision_at(5, [EXACT, SUBSTITUTE, EXACT, IRRELEVANT, EXACT, EXACT], 40) == pytest.approx(3 / 5)
    assert precision_at(5, [EXACT, EXACT, SUBSTITUTE], 2) == 1.0  # the catalog holds two: both shown
    assert precision_at(5, [SUBSTITUTE, EXACT], 2) == pytest.approx(1 / 2)
    assert precision_at(5, [], 3) == 0.0
    assert precision_at(5, [SUBSTITUTE], 0) == 0.0


def labelled(split: str, intent: Intent, query_id: str) -> LabelledQuery:
    return LabelledQuery.model_validate({"id": query_id, "split": split, "q": "q", "intent": intent})


def test_a_query_nothing_in_the_catalog_meets_is_flagged_and_left_out_of_the_means() -> None:
    catalog = {
        "a": product("module", "A", "A1", power_w=330.0),
        "b": product("module", "B", "B1", power_w=340.0),
        "c": product("cable", "C", "C1", section_mm2=6.0),
    }
    catalog = {key: {**value, "id": key} for key, value in catalog.items()}
    found = judge(labelled("test", Intent(category="module", power_w=330), "t1"), ["b", "a", "c"], catalog)
    assert found.returned == [SUBSTITUTE, EXACT, IRRELEVANT]
    assert (found.exact_in_catalog, found.substitutes_in_catalog) == (1, 1)
    assert found.precision == 1.0  # the one exact product is in the first five
    assert found.ndcg == pytest.approx(dcg([0.1, 1.0]) / dcg([1.0, 0.1]))
    missing = judge(labelled("test", Intent(category="module", power_w=550), "t2"), ["a"], catalog)
    assert missing.flagged and missing.substitutes_in_catalog == 0
    dev = judge(labelled("dev", Intent(category="cable", section_mm2=6), "d1"), ["c"], catalog)
    figures = report([found, missing, dev])
    assert figures["test"]["asked"] == 2 and figures["test"]["queries"] == 1
    assert figures["test"]["ndcg_at_10"] == round(found.ndcg, 3)
    assert figures["test"]["no_exact_in_catalog"] == [{"id": "t2", "q": "q", "substitutes": 0}]
    assert "worst" not in figures["test"] and figures["dev"]["worst"][0]["id"] == "d1"
    assert figures["test"]["by_category"] == {"module": {"queries": 1, "ndcg_at_10": 0.688, "p_at_5": 1.0}}
    assert figures["targets"]["met"] is False  # P@5 1.0, but nDCG@10 0.688: both must reach 0.9


def test_the_relevance_set_is_large_split_and_covers_every_category() -> None:
    queries = load_queries()
    assert len(queries) >= 200
    assert len({q.id for q in queries}) == len(queries)
    assert len({q.q.casefold() for q in queries}) == len(queries)
    for split in ("dev", "test"):
        covered = {q.intent.category for q in queries if q.split == split}
        assert set(CATEGORIES) <= covered, f"{split} lacks {set(CATEGORIES) - covered}"
    dev = sum(q.split == "dev" for q in queries) / len(queries)
    assert 0.35 <= dev <= 0.5
    for query in queries:
        if query.intent.model_has is not None:
            re.compile(query.intent.model_has)
        assert query.intent.category is not None or query.intent.brand is not None, query.id
