"""Citations of a generated answer and the "don't know" answer."""

from __future__ import annotations

import pytest

from kernel.text import fold
from rag.answer import (
    DONT_KNOW,
    DONT_KNOW_ANSWER,
    MAX_SNIPPET_CHARS,
    Answer,
    citation,
    citations_for,
    grounded_answer,
)
from rag.passages import Passage

FIO_B = Passage(
    collection="helio-regulatory",
    id="reg-1",
    title="Fio B: cronograma de transição",
    source="regulatory/fio-b-transicao.md",
    section="Cronograma escalonado",
    text=(
        "# Cronograma escalonado\n"
        "A Lei 14.300/2022 criou uma transição para quem não tem direito adquirido. "
        "Em 2026, a energia compensada paga 60 % do Fio B. "
        "Em 2027 a parcela sobe para 75 %."
    ),
    score=0.82,
)
HOMOLOGACAO = Passage(
    collection="helio-regulatory",
    id="reg-2",
    title="REN 1000: prazos",
    source="regulatory/ren-1000-conexao-prazos.md",
    section="",
    text=(
        "A distribuidora tem 15 dias para emitir o parecer de acesso da microgeração solar. "
        "Depois, a vistoria."
    ),
    score=0.55,
)
STRINGS = Passage(
    collection="helio-technical",
    id="tec-1",
    title="Dimensionamento de strings",
    source="technical/strings.md",
    section="Tensão máxima",
    text="A tensão de circuito aberto no frio não pode passar da tensão máxima CC do inversor. " * 5,
    score=0.31,
)
PASSAGES = [FIO_B, HOMOLOGACAO, STRINGS]


@pytest.mark.parametrize(
    ("text", "cited"),
    [
        ("Em 2026 paga 60 % do Fio B [1].", [FIO_B]),
        ("O parecer sai em 15 dias [2]; o Fio B é 60 % [1].", [HOMOLOGACAO, FIO_B]),
        ("Ver [1, 3].", [FIO_B, STRINGS]),
        ("Ver [3; 2].", [STRINGS, HOMOLOGACAO]),
        ("Ver [1][2].", [FIO_B, HOMOLOGACAO]),
        ("Repetido [1] e [1] de novo [1].", [FIO_B]),
        ("Fora do intervalo [4] e [0].", []),  # markers pointing at no given passage are dropped
        ("Misturado [2, 9].", [HOMOLOGACAO]),
        ("Sem citação nenhuma.", []),  # stricter: nothing cited, nothing claimed
        ("Não sei.", []),
        ("A Lei de [2022] não é marcador.", []),  # a year is not a marker
        ("Colchete vazio [] e texto [a].", []),
        ("Segundo a [Passagem 2], 15 dias.", [HOMOLOGACAO]),
    ],
)
def test_citations_for(text: str, cited: list[Passage]) -> None:
    assert citations_for(text, PASSAGES) == [citation(p) for p in cited]


@pytest.mark.parametrize(
    ("text", "expected_text", "cited"),
    [
        ("Fio B: 60 % [1].", "Fio B: 60 % [1].", [FIO_B]),
        (
            "Parecer em 15 dias [2]. Fio B 60 % [1].",
            "Parecer em 15 dias [1]. Fio B 60 % [2].",
            [HOMOLOGACAO, FIO_B],
        ),
        ("Veja [3, 7] e [9].", "Veja [1] e.", [STRINGS]),
        ("Tudo [2, 2, 1].", "Tudo [1, 2].", [HOMOLOGACAO, FIO_B]),
        ("Inventado [5].", "Inventado.", []),
        ("Não sei.", "Não sei.", []),
        ("Conforme a [passagem 3].", "Conforme a [1].", [STRINGS]),
    ],
)
def test_grounded_answer_renumbers_to_its_citations(
    text: str, expected_text: str, cited: list[Passage]
) -> None:
    assert grounded_answer(text, PASSAGES) == Answer(expected_text, tuple(citation(p) for p in cited))


def test_dont_know_says_so_in_portuguese_without_citations() -> None:
    assert Answer(DONT_KNOW, ()) == DONT_KNOW_ANSWER
    assert DONT_KNOW.startswith("Não encontrei informação sobre isso nas bases do Hélio")


def test_snippets_are_capped() -> None:
    snippet = citation(STRINGS).snippet
    assert len(snippet) <= MAX_SNIPPET_CHARS and snippet.endswith("…")
    assert fold(STRINGS.text).startswith(fold(snippet[:-1]))
