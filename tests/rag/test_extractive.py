"""The extractive answer: the sentence that answers first, chosen by question type and evidence, each
sentence cited, numbers whole; products for a question that shops."""

from __future__ import annotations

import pytest

from rag.extractive import MAX_SENTENCE_CHARS, extract, sentences
from rag.passages import Passage
from rag.relevance import Vocabulary


def passage(text: str, number: int = 1, collection: str = "helio-regulatory", section: str = "") -> Passage:
    return Passage(collection, f"p{number}", f"Título {number}", f"doc-{number}.md", section, text, 0.5)


FIO_B = passage(
    "O Fio B é a componente da TUSD que remunera a rede da distribuidora. "
    "Sistemas novos pagam uma parcela crescente do Fio B sobre a energia compensada:\n"
    "| Ano | Parcela do Fio B |\n| --- | --- |\n| 2025 | 45 % |\n| 2026 | 60 % |\n| 2027 | 75 % |\n"
    "A energia consumida no momento da geração não paga Fio B.",
)
PRAZOS = passage(
    "Depois da solicitação de acesso, a distribuidora tem 15 dias para emitir o parecer de acesso da "
    "microgeração. A vistoria é feita em até 7 dias após o pedido. "
    "Para homologar o sistema:\n1. Envie o formulário.\n2. Anexe a ART.\n3. Aguarde a vistoria.",
    number=2,
)
GARANTIA = passage(
    "A garantia de produto dos módulos costuma ser de 10 a 15 anos contra defeitos de fabricação. "
    "A garantia de performance assegura 80 % da potência após 25 anos. "
    "Misturar conectores de marcas diferentes não é permitido e pode anular a garantia.",
    number=3,
    collection="helio-sales",
)
DOCUMENTS = [FIO_B, PRAZOS, GARANTIA]
IDF = Vocabulary(p.text for p in DOCUMENTS).idf


@pytest.mark.parametrize(
    ("question", "opening"),
    [
        # percentage: the table row of the year asked, read with its header
        ("Que percentual do Fio B um sistema novo paga em 2026?", "Ano: 2026; Parcela do Fio B: 60 %"),
        # deadline
        ("Em quantos dias a distribuidora emite o parecer de acesso?", "Depois da solicitação de acesso"),
        ("Qual o prazo da vistoria?", "A vistoria é feita em até 7 dias"),
        # quantity with a unit named
        ("Quantos anos de garantia de produto tem um módulo?", "A garantia de produto dos módulos"),
        # definition
        ("O que é o Fio B?", "O Fio B é a componente da TUSD"),
        # yes/no
        ("Posso misturar conectores de marcas diferentes?", "Misturar conectores de marcas diferentes"),
        # the energy used at once
        ("A energia que eu consumo na hora da geração paga Fio B?", "A energia consumida no momento"),
    ],
)
def test_the_answer_opens_with_the_sentence_that_answers(question: str, opening: str) -> None:
    found = extract(question, DOCUMENTS, idf=IDF)
    assert found is not None and found.answer.text.startswith(opening), found.answer.text
    assert found.answer.text.split(" [")[1].startswith("1]")  # the opening sentence is cited


def test_a_procedure_brings_its_steps() -> None:
    found = extract("Como faço para homologar o sistema?", DOCUMENTS, idf=IDF)
    assert found is not None
    text = found.answer.text
    assert (
        text.index("Para homologar o sistema") < text.index("Envie o formulário") < text.index("Anexe a ART")
    )


def test_every_sentence_is_cited_and_the_citations_quote_it() -> None:
    found = extract("O que é o Fio B e quanto ele custa em 2026?", DOCUMENTS, idf=IDF)
    assert found is not None
    numbers = {int(n) for n in __import__("re").findall(r"\[(\d)\]", found.answer.text)}
    assert numbers == set(range(1, len(found.answer.citations) + 1))
    assert found.answer.citations[0].source == "doc-1.md"
    assert found.answer.citations[0].snippet.split(" ")[0] in found.answer.text


def test_nothing_in_common_is_no_answer() -> None:
    assert extract("receita de bolo de cenoura", DOCUMENTS) is None
    assert extract("qualquer coisa", []) is None


def test_coverage_and_fit_describe_the_opening_sentence() -> None:
    answered = extract("Que percentual do Fio B um sistema novo paga em 2026?", DOCUMENTS, idf=IDF)
    unfit = extract("Quantos GW de Fio B o Brasil tem?", DOCUMENTS, idf=IDF)
    assert answered is not None and answered.fits and answered.coverage > 0.3
    assert unfit is not None and not unfit.fits  # a unit asked for that no sentence holds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a line broken mid-sentence (PDF text) is joined; list items stay apart
        ("A corrente nominal fica entre a\ncorrente da string e o limite.\n• DPS CC.\n• Fusível gPV.",
         ["A corrente nominal fica entre a corrente da string e o limite.", "DPS CC.", "Fusível gPV."]),
        ("## Título\n- **Inmetro** exige selo.", ["Título", "Inmetro exige selo."]),
        ("| A | B |\n| --- | --- |\n| 1 | 2 |", ["A: 1; B: 2"]),
        ("", []),
    ],
)  # fmt: skip
def test_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_long_sentences_are_cut_at_a_word_never_inside_a_number() -> None:
    long = "O valor de referência é " + "R$ 1.234,56 e " * 60 + "fim."
    found = extract("Qual o valor de referência?", [passage(long)])
    assert found is not None
    opening = found.answer.text.split(" [1]")[0]
    assert len(opening) <= MAX_SENTENCE_CHARS and opening.endswith("…")
    assert opening[:-1].rstrip().endswith(("1.234,56", "e"))


PRODUCTS = [
    Passage("helio-catalog", "m1", "Módulo X 550 W", "catalog:m1", "module",
            "Módulo X 550 W — módulo fotovoltaico; potência 550 W; a partir de R$ 700,00, em estoque.", 0.6),
    Passage("helio-pricing", "o1", "Inversor Y 5 kW", "catalog:i1", "inverter",
            "Inversor Y 5 kW (Y, SKU 1) na loja: R$ 3.000,00, estoque 4 un.", 0.5),
]  # fmt: skip


def test_a_question_that_shops_gets_products() -> None:
    found = extract("Vocês têm módulo de 550 W?", [*PRODUCTS, GARANTIA], intent="product")
    assert found is not None and found.answer.text.startswith("Módulo X 550 W")
    assert [c.collection for c in found.answer.citations] == ["helio-catalog", "helio-pricing"]


def test_a_question_about_how_things_work_gets_the_documents_first() -> None:
    found = extract(
        "Posso misturar conectores de marcas diferentes?", [*PRODUCTS, GARANTIA], intent="technical"
    )
    assert found is not None and found.answer.citations[0].collection == "helio-sales"
