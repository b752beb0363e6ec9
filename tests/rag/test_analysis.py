"""Portuguese lexical analysis: the terms a question and a passage meet on, and their BM25 weights."""

from __future__ import annotations

import pytest

from catalog.lexical import term_index
from rag.analysis import BM25_K1, document_vector, query_vector, stem, terms


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("compensação", "compensacao"),  # typed without accents
        ("compensação", "compensada"),
        ("compensações", "compensar"),
        ("instalação", "instalações"),
        ("tensão", "tensões"),  # the plural the stemmer leaves apart
        ("painéis", "painel"),
        ("painel", "módulo"),  # what people say, what the documents say
        ("placas", "módulos"),
        ("lavar", "limpeza"),
        ("compatível", "compativeis"),
        ("Homologação", "HOMOLOGAR"),
    ],
)
def test_words_of_one_family_meet(one: str, other: str) -> None:
    assert terms(one) == terms(other) != []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Quanto do Fio B eu pago?", ["fio", "b", "pag"]),  # stopwords out, the B of Fio B kept
        ("Lei 14.300 de 2022", ["lei", "14300", "2022"]),  # thousands dots dropped
        ("0,5 % ao ano", ["0.5", "ano"]),  # a decimal comma is a point
        ("conector MC4 e NBR16690", ["conector", "mc4", "nbr16690"]),  # codes whole
        ("numa casa, depois disso, tá?", ["cas", "ta"]),
    ],
)
def test_terms(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


def test_a_short_word_keeps_its_ending() -> None:
    assert stem("mao") == "mao" and stem("seis") == "seis"


def test_a_question_weighs_each_term_once() -> None:
    vector = query_vector("fio b fio b 2026")
    assert sorted(vector.indices) == sorted({term_index(t) for t in ("fio", "b", "2026")})
    assert set(vector.values) == {1.0}


def test_document_weights_saturate_and_normalise_for_length() -> None:
    fio = term_index("fio")

    def weight(text: str) -> float:
        vector = document_vector(text)
        return vector.values[vector.indices.index(fio)]

    once, twice, ten = (
        weight("fio energia"),
        weight("fio fio energia"),
        weight(" ".join(["fio"] * 10) + " energia"),
    )
    assert once < twice < ten < BM25_K1 + 1  # more occurrences count, less and less
    assert ten - twice < twice - once * 0.5
    padding = " ".join(f"palavra{n}" for n in range(200))
    assert weight(f"fio {padding}") < once  # one mention in a long passage counts less
