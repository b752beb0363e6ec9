"""What a question asks for: its type, the figure a calculation opens with, and whether it shops."""

from __future__ import annotations

import pytest

from rag.questions import figure_asked, question_type, wants_products


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Que percentual do Fio B um sistema novo paga em 2026?", "percentage"),
        ("Quanto por cento a conta cai?", "percentage"),
        ("Qual o prazo da distribuidora para a vistoria?", "deadline"),
        ("Quantos dias leva a homologação?", "deadline"),
        ("Os créditos valem por quanto tempo?", "deadline"),
        ("Quantos módulos cabem numa string de 600 V?", "quantity"),
        ("Qual a bitola do cabo para 30 metros?", "quantity"),
        ("O que é o Fio B?", "definition"),
        ("Qual a diferença entre TUSD e TE?", "definition"),
        ("Como faço para homologar o sistema?", "procedure"),
        ("Quais documentos a distribuidora pede?", "procedure"),
        ("Posso misturar conectores de marcas diferentes?", "yes_no"),
        ("Vale a pena usar placa bifacial em telha cerâmica?", "yes_no"),
        ("Me fala sobre garantia", "other"),
    ],
)
def test_question_type(question: str, kind: str) -> None:
    assert question_type(question) == kind


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        ("Em quantos anos o sistema se paga?", "payback"),
        ("Qual o retorno do investimento?", "payback"),
        ("Quanto eu economizo por mês?", "savings"),
        ("Quanto vou investir?", "investment"),
        ("Qual a parcela do financiamento?", "financing"),
        ("Quanto o sistema vai gerar por mês?", "generation"),
        ("Quantas placas eu preciso?", "modules"),
        ("De quantos kWp eu preciso?", "size"),
        ("800 kWh em Recife", "size"),  # none named: the system size
        ("O CS6W-550MS é compatível com o SUN-5K-G03?", "compatibility"),
        ("Faz um orçamento de 10 CS6W-550MS e 1 SUN-5K-G03", "quote"),
        ("Esse módulo funciona com o inversor da Deye?", "compatibility"),
    ],
)
def test_figure_asked(question: str, figure: str) -> None:
    assert figure_asked(question) == figure


@pytest.mark.parametrize(
    ("question", "shops"),
    [
        ("Vocês têm microinversor para 4 módulos?", True),
        ("Tem inversor trifásico de 10 kW?", True),
        ("Kit de 5 kWp pra telhado cerâmico, tem?", True),
        ("Quanto custa um inversor de 5 kW?", True),
        ("Qual o preço da estrutura para laje?", True),
        ("Como funciona um inversor híbrido?", False),
        ("O que é o Fio B?", False),
    ],
)
def test_shopping_questions(question: str, shops: bool) -> None:
    assert wants_products(question) is shops


def test_the_figure_asked_is_one_the_calculation_offers() -> None:
    question = "Quanto custa um sistema para 800 kWh em Recife?"
    assert figure_asked(question) == "quote"
    assert figure_asked(question, ["size", "payback", "investment"]) == "investment"
    assert figure_asked("Qual o fator de capacidade?", ["payback"]) == "size"
