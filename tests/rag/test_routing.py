"""Routing questions in Portuguese to an intent and the collections to search, most relevant first."""

from __future__ import annotations

import pytest

from kernel.schemas import KNOWLEDGE_COLLECTIONS
from rag.routing import GENERAL_COLLECTIONS, MAX_COLLECTIONS, Intent, Route, route

CAT, PRI, REG, TEC, SAL = (
    "helio-catalog",
    "helio-pricing",
    "helio-regulatory",
    "helio-technical",
    "helio-sales",
)


@pytest.mark.parametrize(
    ("question", "intent", "collections"),
    [
        # products: catalog, then technical
        ("Qual o melhor painel de 550 W?", "product", (CAT, TEC)),
        ("Vocês trabalham com baterias de lítio?", "product", (CAT, TEC)),
        ("Me fale do SUN-5K-G", "product", (CAT, TEC)),
        ("Tem microinversor Hoymiles?", "product", (CAT, TEC)),
        ("Qual a garantia dos painéis Jinko?", "product", (CAT, TEC, SAL)),
        # prices and offers: pricing, then catalog
        ("Quanto custa o inversor Growatt de 5 kW?", "price", (PRI, CAT, TEC)),
        ("Qual o PREÇO do kit de 4 kWp?", "price", (PRI, CAT, TEC)),
        ("Tem painel em estoque para pronta entrega?", "price", (PRI, CAT, TEC)),
        ("Qual distribuidor tem o menor prazo de entrega?", "price", (PRI, CAT)),
        ("Preciso de uma cotação", "price", (PRI, CAT)),
        # sizing (a computation tool later): technical, then catalog
        ("Quantos painéis preciso para consumo de 500 kWh/mês?", "sizing", (TEC, CAT)),
        ("Como dimensionar um sistema para uma conta de luz de 400 reais?", "sizing", (TEC, CAT)),
        ("Qual kit eu preciso para gastar 300 kWh por mês?", "sizing", (TEC, CAT)),
        # payback and financing: sales, then regulatory
        ("Qual o payback de um sistema de 5 kWp?", "payback", (SAL, REG)),
        ("Vale a pena financiar com parcela de 400 reais?", "payback", (SAL, REG)),
        ("O retorno do investimento muda com o Fio B?", "payback", (SAL, REG)),
        ("Quais linhas de financiamento existem para energia solar?", "payback", (SAL, REG)),
        # regulatory
        ("Como funciona o Fio B na Lei 14.300?", "regulatory", (REG,)),
        ("Qual o prazo de homologação na distribuidora?", "regulatory", (REG,)),
        ("O que a REN 1000 diz sobre o parecer de acesso?", "regulatory", (REG,)),
        ("Qual o custo de disponibilidade na conta?", "regulatory", (REG,)),
        ("O módulo precisa de selo do Inmetro?", "regulatory", (REG, CAT, TEC)),
        ("Quem tem direito adquirido na geração distribuída?", "regulatory", (REG,)),
        # technical: strings, MPPT, Voc, installation
        ("Quantos módulos por string no inversor SUN-5K-G?", "technical", (TEC, CAT)),
        ("Qual a tensão Voc máxima no MPPT?", "technical", (TEC, CAT)),
        ("Qual a bitola do cabo CC para 30 metros?", "technical", (TEC, CAT)),
        ("Pode fazer oversizing de 30%?", "technical", (TEC, CAT)),
        ("Qual a inclinação ideal em Curitiba?", "technical", (TEC, CAT)),
        # sales material
        ("Como responder à objeção de que solar é caro?", "sales", (SAL,)),
        ("Tem um roteiro de vendas para supermercados?", "sales", (SAL,)),
        # nothing recognised
        ("Olá, tudo bem?", "general", GENERAL_COLLECTIONS),
        ("", "general", GENERAL_COLLECTIONS),
    ],
)
def test_route(question: str, intent: Intent, collections: tuple[str, ...]) -> None:
    result = route(question, [])
    assert (result.intent, result.collections) == (intent, collections)
    assert result.query == question


@pytest.mark.parametrize(
    ("question", "history", "intent", "collections", "query"),
    [
        # a follow-up borrows the last user turn; its own words lead
        (
            "e o preço dele?",
            [
                {"role": "user", "content": "Qual o melhor inversor Deye de 5 kW?"},
                {"role": "assistant", "content": "O SUN-5K-G [1]."},
            ],
            "price",
            (PRI, CAT, TEC),
            "Qual o melhor inversor Deye de 5 kW?\ne o preço dele?",
        ),
        # nothing in the follow-up itself: the earlier turn gives the intent
        (
            "E em 2026?",
            [{"role": "user", "content": "Quanto do Fio B eu pago em 2025?"}],
            "regulatory",
            (REG,),
            "Quanto do Fio B eu pago em 2025?\nE em 2026?",
        ),
        (
            "Isso vale para o payback?",
            [{"role": "user", "content": "Como funciona a compensação de créditos?"}],
            "payback",
            (SAL, REG),
            "Como funciona a compensação de créditos?\nIsso vale para o payback?",
        ),
        # assistant turns are not borrowed
        (
            "e o preço?",
            [{"role": "assistant", "content": "Fio B e homologação"}],
            "price",
            (PRI, CAT),
            "e o preço?",
        ),
        # "está" is not a pointer back; a history turn that is not text is skipped
        (
            "Qual inversor está com pronta entrega hoje?",
            [{"role": "user", "content": "Quanto custa o financiamento?"}],
            "price",
            (PRI, CAT, TEC),
            "Qual inversor está com pronta entrega hoje?",
        ),
        (
            "e o preço?",
            [{"role": "user", "content": "Tem bateria de lítio?"}, {"role": "user", "content": None}],
            "price",
            (PRI, CAT, TEC),
            "Tem bateria de lítio?\ne o preço?",
        ),
        # a question that stands on its own ignores the history
        (
            "Qual a tensão Voc máxima do módulo no inverno?",
            [{"role": "user", "content": "Quanto custa o financiamento?"}],
            "technical",
            (TEC, CAT),
            "Qual a tensão Voc máxima do módulo no inverno?",
        ),
    ],
)
def test_follow_up_uses_last_user_turn(
    question: str,
    history: list[dict[str, str]],
    intent: Intent,
    collections: tuple[str, ...],
    query: str,
) -> None:
    assert route(question, history) == Route(intent, collections, query)


@pytest.mark.parametrize(
    "question",
    [
        "Quanto custa financiar um kit Growatt de 5 kWp com Fio B e homologação, e qual a string ideal?",
        "preço do painel, payback, Lei 14.300, MPPT, objeção de vendas",
    ],
)
def test_collections_are_known_unique_and_capped(question: str) -> None:
    collections = route(question, []).collections
    assert 1 <= len(collections) <= MAX_COLLECTIONS
    assert len(set(collections)) == len(collections)
    assert set(collections) <= set(KNOWLEDGE_COLLECTIONS)
