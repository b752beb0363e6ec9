"""What the computation tool makes of a question and its context, and the passage it writes."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from kernel.text import fold
from rag.assistant import Calculation
from rag.routing import MODEL_CODE
from services.ask_tools import TOOLS_COLLECTION, SolarTool, cart_in, recommend_request
from services.recommend import KitRecommender
from solar.offers import Listing


@pytest.mark.parametrize(
    ("question", "context", "consumption", "connection"),
    [
        ("Qual o tamanho do sistema para 450 kWh?", {"city": "Recife", "uf": "PE"}, 450, "bi"),
        ("quanto gero com consumo de 1.200 kWh por mês?", {"city": "Recife", "uf": "PE"}, 1200, "bi"),
        (
            "e o payback?",
            {"consumption_kwh_month": 800, "lat": -23.5, "lon": -46.6, "connection": "tri"},
            800,
            "tri",
        ),
        ("payback para 350,5 kwh", {"city": "Natal", "uf": "RN", "connection": "mono"}, 350.5, "mono"),
    ],
)
def test_requests_from_question_and_context(
    question: str, context: dict[str, Any], consumption: float, connection: str
) -> None:
    request = recommend_request(question, context)
    assert not isinstance(request, str), request
    assert (request.consumption_kwh_month, request.connection) == (consumption, connection)


@pytest.mark.parametrize(
    ("question", "context", "why"),
    [
        ("qual o payback?", {"city": "Recife", "uf": "PE"}, "no consumption"),
        ("sistema para 450 kWh", {}, "place"),
        ("sistema para 450 kWh", {"city": "Recife", "uf": "PE", "connection": "quadrifásica"}, "connection"),
    ],
)
def test_what_is_missing_is_said(question: str, context: dict[str, Any], why: str) -> None:
    request = recommend_request(question, context)
    assert isinstance(request, str) and why in request


def test_the_calculation_carries_the_figures_and_a_sentence_per_figure(recommender: KitRecommender) -> None:
    calculation = SolarTool(recommender).calculate(
        "payback de 800 kWh/mês?", {"city": "São Paulo", "uf": "SP"}
    )
    assert isinstance(calculation, Calculation) and calculation.passage.collection == TOOLS_COLLECTION
    text = calculation.passage.text
    assert "800 kWh/mês em São Paulo/SP" in text and "payback simples" in text
    assert set(calculation.headlines) >= {"size", "generation", "payback", "savings", "investment"}
    assert calculation.headlines["payback"].startswith("Para 800 kWh/mês em São Paulo/SP, o payback")
    unknown = SolarTool(recommender).calculate("payback de 800 kWh/mês?", {"city": "Atlantis", "uf": "SP"})
    assert isinstance(unknown, str) and "Atlantis" in unknown


@pytest.mark.parametrize(
    ("question", "context", "place"),
    [
        ("payback de 800 kWh/mês em Recife?", {}, "Recife/PE"),
        ("payback de 800 kWh/mês em belo horizonte, MG", {}, "Belo Horizonte/MG"),
        # the context's place wins over the question's
        ("payback de 800 kWh/mês em Recife?", {"city": "Natal", "uf": "RN"}, "Natal/RN"),
    ],
)
def test_the_place_comes_from_the_question_or_the_context(
    recommender: KitRecommender, question: str, context: dict[str, Any], place: str
) -> None:
    calculation = SolarTool(recommender).calculate(question, context)
    assert isinstance(calculation, Calculation) and f"em {place}" in calculation.passage.text


def test_without_a_consumption_there_is_nothing_to_calculate(recommender: KitRecommender) -> None:
    assert asyncio.run(SolarTool(recommender)("qual o payback em Recife?", {})) is None


def named(recommender: KitRecommender, category: str, skip: int = 0) -> Listing:
    """A product of the catalog whose model the question can write as a code (letters, digits, hyphens)."""
    parts = recommender.current_snapshot().index.parts_by_id
    listings = recommender.current_snapshot().index.listings.values()
    fitting = [
        listing
        for listing in listings
        if listing.category == category
        and listing.id in parts
        and re.fullmatch(MODEL_CODE, fold(listing.model))
    ]
    return sorted(fitting, key=lambda listing: listing.id)[skip]


@pytest.mark.parametrize("where", ["", " em Curitiba"])
def test_two_products_named_by_model_are_checked_together(recommender: KitRecommender, where: str) -> None:
    module, inverter = named(recommender, "module"), named(recommender, "inverter")
    question = f"O módulo {module.model} é compatível com o inversor {inverter.model.lower()}{where}?"
    checked = SolarTool(recommender).compatibility(question, {})
    assert isinstance(checked, Calculation) and checked.passage.id == "compatibility"
    lead = checked.headlines["compatibility"]
    assert lead.startswith(
        (f"Sim: o {module.title} funciona com o {inverter.title}", f"Não: o {module.title}")
    )
    assert "módulos em série" in checked.passage.text or "nenhum número" in checked.passage.text
    assert ("(PR," in lead) is bool(where)  # the place's design temperatures
    micro = named(recommender, "microinverter")
    paired = SolarTool(recommender).compatibility(f"O {micro.model} funciona com o {module.model}?", {})
    assert isinstance(paired, Calculation) and "por microinversor" in paired.passage.text


def test_a_compatibility_question_needs_a_module_and_an_inverter(recommender: KitRecommender) -> None:
    tool = SolarTool(recommender)
    module, other = named(recommender, "module"), named(recommender, "module", skip=1)
    assert tool.compatibility(f"O {module.model} é compatível com qualquer coisa?", {}) is None
    two_modules = tool.compatibility(f"O {module.model} é compatível com o {other.model}?", {})
    assert isinstance(two_modules, str) and "one module with one inverter" in two_modules


def test_a_cart_written_in_the_question_is_quoted(recommender: KitRecommender) -> None:
    module, inverter = named(recommender, "module"), named(recommender, "inverter")
    question = f"Faz um orçamento de 12 módulos {module.model} e 1 inversor {inverter.model}?"
    quoted = SolarTool(recommender).quote(question, {})
    assert isinstance(quoted, Calculation) and quoted.passage.id == "quote"
    assert quoted.headlines["quote"].startswith("O orçamento fica em R$ ")
    assert f"12 × {module.title}" in quoted.passage.text and f"1 × {inverter.title}" in quoted.passage.text


@pytest.mark.parametrize(
    ("template", "quantities"),
    [
        ("orçamento de 10 {m} e 2 {i}", [10, 2]),
        ("quanto fica 10x módulos {m} com o inversor {i}?", [10, 1]),
        ("quanto custa o {m}?", [1]),  # one product, no quantity: a price question, not a cart
    ],
)
def test_quantities_are_read_before_each_product(
    recommender: KitRecommender, template: str, quantities: list[int]
) -> None:
    module, inverter = named(recommender, "module"), named(recommender, "inverter")
    question = template.format(m=module.model, i=inverter.model)
    cart = cart_in(recommender.current_snapshot().index.listings.values(), question)
    assert [qty for _, qty in cart] == quantities
    assert (SolarTool(recommender).quote(question, {}) is None) is (quantities == [1])
