"""Ranking: hand-built fused hits, re-ordered by the boosts a query plan calls for."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.query import QueryPlan, SearchParams, plan_query
from catalog.ranking import RankingWeights, SearchResult, rank
from kernel.vectors import Hit

BRANDS = ["Canadian Solar", "Growatt", "Deye"]


def plan(q: str) -> QueryPlan:
    return plan_query(SearchParams(q=q), BRANDS)


def hit(point_id: str, score: float = 0.5, **payload: Any) -> Hit:
    base: dict[str, Any] = {
        "product_id": point_id,
        "sku": f"SKU-{point_id}",
        "title": f"Produto {point_id}",
        "category": "inverter",
        "brand": "Growatt",
        "model": f"MODEL-{point_id}",
        "power_w": None,
        "phases": None,
        "ac_voltage_v": None,
        "price_brl": 1000.0,
        "distributors": ["dist-a"],
        "in_stock": True,
        "lead_time_days": 3,
    }
    return Hit(id=point_id, score=score, payload=base | payload)


def ids(results: list[SearchResult]) -> list[str]:
    return [r.id for r in results]


@pytest.mark.parametrize(
    ("q", "hits", "expected"),
    [
        (
            "inversor 5 kW",
            [hit("10kw", 0.6, power_w=10000), hit("6kw", 0.5, power_w=6000), hit("5kw", 0.5, power_w=5000)],
            ["5kw", "6kw", "10kw"],
        ),
        (
            "inversor growatt",
            [hit("out", 0.5, in_stock=False), hit("in", 0.5, in_stock=True)],
            ["in", "out"],
        ),
        (
            "painel CS6W-550MS",
            [
                hit("near", 0.7, category="module", model="CS6W-545MS", power_w=545),
                hit("exact", 0.4, category="module", model="CS6W-550MS", power_w=550),
            ],
            ["exact", "near"],
        ),
        (
            "YSH-000123",
            [hit("other", 0.7), hit("named", 0.4, sku="YSH-000123")],
            ["named", "other"],
        ),
        (
            "inversor 5 kW monofásico",
            [
                hit("tri", 0.5, power_w=5000, phases=3),
                hit("unknown", 0.5, power_w=5000),
                hit("mono", 0.5, power_w=5000, phases=1),
            ],
            ["mono", "unknown", "tri"],
        ),
        (
            "inversor deye",  # explicit_filter retries without the text's brand/category: boosts still steer
            [
                hit("kit", 0.5, category="kit", brand="Deye"),
                hit("other", 0.5),
                hit("deye", 0.5, brand="Deye"),
            ],
            ["deye", "other", "kit"],
        ),
        (
            "painel 550 W",  # "550" is a power here, not the name of the product whose model is "550"
            [
                hit("vague-model", 0.4, category="module", model="550", power_w=550),
                hit("better-hit", 0.5, category="module", power_w=550),
            ],
            ["better-hit", "vague-model"],
        ),
    ],
)
def test_order(q: str, hits: list[Hit], expected: list[str]) -> None:
    assert ids(rank(hits, plan(q), limit=10)) == expected


def test_ties_go_to_the_cheaper_offer_then_the_id_whatever_the_input_order() -> None:
    hits = [
        hit("b", 0.5, price_brl=900.0),
        hit("a", 0.5, price_brl=900.0),
        hit("c", 0.5, price_brl=None),
        hit("d", 0.5, price_brl=800.0),
    ]
    expected = ["d", "a", "b", "c"]
    assert ids(rank(hits, plan("inversor"), limit=10)) == expected
    assert ids(rank(hits[::-1], plan("inversor"), limit=10)) == expected


def test_weights_are_configurable() -> None:
    hits = [hit("out-cheap", 0.5, in_stock=False, price_brl=10.0), hit("in-dear", 0.5, price_brl=99.0)]
    assert ids(rank(hits, plan("inversor"), limit=10)) == ["in-dear", "out-cheap"]
    no_stock_boost = RankingWeights(in_stock=0.0)
    assert ids(rank(hits, plan("inversor"), limit=10, weights=no_stock_boost)) == ["out-cheap", "in-dear"]


def test_limit_and_empty_input() -> None:
    hits = [hit(str(i), score=i / 10) for i in range(1, 6)]
    assert ids(rank(hits, plan("inversor"), limit=2)) == ["5", "4"]
    assert rank([], plan("inversor"), limit=10) == []


def test_result_carries_the_payload_and_the_score() -> None:
    [result] = rank(
        [hit("p1", 0.5, power_w=5000, price_brl=3999.9, distributors=["a", "b"], in_stock=True)],
        plan("inversor 5 kW"),
        limit=10,
    )
    assert set(SearchResult.model_fields) == {
        "id",
        "sku",
        "title",
        "category",
        "brand",
        "model",
        "power_w",
        "price_brl",
        "distributors",
        "in_stock",
        "score",
        "exact_match",
    }
    assert result.model_dump() == {
        "id": "p1",
        "sku": "SKU-p1",
        "title": "Produto p1",
        "category": "inverter",
        "brand": "Growatt",
        "model": "MODEL-p1",
        "power_w": 5000,
        "price_brl": 3999.9,
        "distributors": ["a", "b"],
        "in_stock": True,
        # relevance 1 + closeness 1.0 + category 1.5 + in stock 0.2
        "score": pytest.approx(3.7),
        "exact_match": False,
    }


def test_a_product_named_by_its_code_comes_first_and_says_so() -> None:
    """Even where the other boosts outweigh the code's (here it weighs nothing): naming a model code or SKU
    is the clearest intent a storefront search gets."""
    hits = [
        hit("near", 0.9, category="module", model="CS6W-545MS", power_w=550),
        hit("exact", 0.2, category="module", model="CS6W-550MS", power_w=550, in_stock=False),
    ]
    results = rank(hits, plan("painel 550w CS6W-550MS"), limit=10, weights=RankingWeights(exact_code=0.0))
    assert [(r.id, r.exact_match) for r in results] == [("exact", True), ("near", False)]
    assert results[0].score < results[1].score


def test_power_within_the_same_size_window_beats_a_closer_text_match() -> None:
    """A 460 W module is not what "450 W" asks for, however well its text matches (modules: ±2 %)."""
    hits = [
        hit("460", 0.6, category="module", power_w=460),
        hit("450", 0.3, category="module", power_w=450),
        hit("449", 0.2, category="module", power_w=449),
    ]
    assert ids(rank(hits, plan("painel 450w"), limit=10)) == ["450", "449", "460"]


@pytest.mark.parametrize(
    ("q", "titles", "expected"),
    [
        ("bateria 10kwh", {"far": "Bateria X 12,8 kWh", "near": "Bateria Y 9,6 kWh"}, "near"),
        ("cabo 6mm rolo 50 metros", {"25m": "Cabo 6 mm² Rolo 25 m", "50m": "Cabo 6 mm² Rolo 50 m"}, "50m"),
        ("controlador 30a", {"60a": "Controlador PWM 60A", "30a": "X MPPT controller 30A/24V"}, "30a"),
        ("controlador 30a", {"60a": "Controlador PWM 60A", "30a": "X MPPT charge controller 30 A"}, "30a"),
        (
            "string box 2 entradas",
            {"8": "String Box 8 Entradas/1 Saídas", "2": "SB 2E1S 2 Entradas/1 Saídas"},
            "2",
        ),
        (
            "estrutura 12 placas",
            {"4": "Estrutura Solo 4 MÓDULOS", "12": "Estrutura Solo p/ 12 Módulos"},
            "12",
        ),
        ("controlador mppt 40a", {"pwm": "Controlador PWM 40A", "mppt": "Controlador MPPT 40A"}, "mppt"),
    ],
)
def test_sizes_and_kinds_the_title_states(q: str, titles: dict[str, str], expected: str) -> None:
    """The payload has no capacity, current, section, length or counts: titles state them."""
    (first, first_title), (second, second_title) = titles.items()
    hits = [hit(first, 0.6, title=first_title), hit(second, 0.3, title=second_title)]
    assert ids(rank(hits, plan(q), limit=10))[0] == expected


@pytest.mark.parametrize(
    "ceramic_title", ["Estrutura Telhado Cerâmico 4 Módulos", "Solar kit 4 kWp (ceramic tile roof)"]
)
def test_the_roof_asked_for_beats_another(ceramic_title: str) -> None:
    hits = [
        hit("laje", 0.6, category="structure", title="Estrutura de Fixação Laje 4 Módulos"),
        hit("unknown", 0.5, category="structure", title="Estrutura 4 Módulos"),
        hit("ceramic", 0.3, category="structure", title=ceramic_title),
    ]
    assert ids(rank(hits, plan("estrutura telha de barro"), limit=10)) == ["ceramic", "unknown", "laje"]


def test_a_kit_is_of_the_brand_its_title_names() -> None:
    hits = [
        hit(
            "other",
            0.6,
            category="kit",
            brand="Kit Center",
            title="Solar kit 4 kWp - LG modules + SMA inverter",
        ),
        hit(
            "named", 0.3, category="kit", brand="Kit Center", title="Solar kit 4 kWp - Canadian Solar modules"
        ),
    ]
    assert ids(rank(hits, plan("kit canadian 4kwp"), limit=10)) == ["named", "other"]


def test_a_model_code_alone_ranks_the_rest_as_alternatives_to_the_product_it_names() -> None:
    hits = [
        hit("kit", 0.6, category="kit", brand="SolarEdge"),
        hit("named", 0.5, model="SE10K", power_w=9850),
        hit("small", 0.45, power_w=3000),
        hit("alike", 0.4, power_w=10000),
    ]
    assert ids(rank(hits, plan("SE10K"), limit=10)) == ["named", "alike", "small", "kit"]
