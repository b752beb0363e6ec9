"""The relevance gate: the evidence read from a question and its passages, and the calibrated decision."""

from __future__ import annotations

import pytest

from rag.extractive import extract
from rag.passages import Passage
from rag.relevance import Evidence, RelevanceGate, Vocabulary, evidence

CORPUS = [
    "O Fio B é a componente da TUSD que remunera a rede da distribuidora.",
    "Em 2026 a energia compensada paga 60 % do Fio B.",
    "Os créditos de energia expiram em 60 meses.",
    "A garantia de produto dos módulos é de 10 a 15 anos.",
]
VOCABULARY = Vocabulary(CORPUS)
PASSAGES = [
    Passage("helio-regulatory", str(n), "", f"d{n}.md", "", text, 0.6) for n, text in enumerate(CORPUS)
]


def read(question: str, in_domain: bool = True, similarity: float = 0.6) -> Evidence:
    from rag.analysis import query_terms

    lead = extract(question, PASSAGES, idf=VOCABULARY.idf)
    return evidence(query_terms(question), PASSAGES, similarity, in_domain, VOCABULARY, lead)


def test_the_vocabulary_knows_its_terms_and_their_rarity() -> None:
    assert VOCABULARY.knows("fio") and VOCABULARY.knows("credit") and not VOCABULARY.knows("bol")
    assert VOCABULARY.idf("bol") > VOCABULARY.idf("credit") > VOCABULARY.idf("energ")
    assert VOCABULARY.knows("expirar"[:6])  # a form the stemmer leaves apart, by its first letters


def test_evidence_of_an_answerable_and_an_off_topic_question() -> None:
    answerable = read("Quanto do Fio B a energia compensada paga em 2026?")
    off_topic = read("Qual a receita de bolo de cenoura com chocolate?", in_domain=False, similarity=0.4)
    assert answerable.coverage == pytest.approx(1.0) and answerable.unknown == 0.0 and answerable.fits
    assert off_topic.coverage == 0.0 and off_topic.unknown > 0.5 and off_topic.lead_coverage == 0.0


def test_numbers_are_no_unknown_topic() -> None:
    assert read("Os créditos de energia de 2031 expiram?").unknown == 0.0


@pytest.mark.parametrize(
    ("question", "in_domain", "answers"),
    [
        ("Quanto do Fio B a energia compensada paga em 2026?", True, True),
        ("Os créditos de energia expiram?", True, True),
        ("Qual a receita de bolo de cenoura com chocolate?", False, False),
        ("Quem ganhou o jogo de futebol de ontem?", False, False),
    ],
)
def test_the_shipped_gate_decides(question: str, in_domain: bool, answers: bool) -> None:
    assert RelevanceGate().relevant(read(question, in_domain)) is answers


def test_the_gate_is_monotonic_in_its_evidence() -> None:
    gate = RelevanceGate()
    weak = Evidence(0.4, 0.2, 0.1, 0.5, 0.9, False, False)
    stronger = [
        Evidence(0.4, 0.8, 0.1, 0.5, 0.9, False, False),
        Evidence(0.4, 0.2, 0.7, 0.5, 0.9, False, False),
        Evidence(0.4, 0.2, 0.1, 0.0, 0.9, False, False),
        Evidence(0.4, 0.2, 0.1, 0.5, 0.3, False, False),
        Evidence(0.8, 0.2, 0.1, 0.5, 0.9, False, False),
        Evidence(0.4, 0.2, 0.1, 0.5, 0.9, True, False),
    ]
    assert all(gate.probability(s) > gate.probability(weak) for s in stronger)
