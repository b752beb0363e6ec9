"""The lexical vector: one spelling per term, whatever the feed or the customer wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.lexical import Quantity, lexical_vector, quantities, term_index, terms
from kernel.text import fold


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CS6W-550MS", ["cs6w-550ms", "cs6w", "550ms"]),
        ("SUN-5K-SG03LP1-EU", ["sun-5k-sg03lp1-eu", "sun", "5000w", "sg03lp1", "eu"]),
        ("YSH-100234-01", ["ysh-100234-01", "ysh", "100234", "01"]),
        ("220/380V", ["220/380v", "220", "380v"]),
        ("Inversor 5 kW Monofásico", ["inversor", "5000w", "monofasico"]),
        ("inversor de 3 a 5 kW para casa", ["inversor", "3", "5000w", "casa"]),
        ("cabo solar 6mm²", ["cabo", "solar", "6mm"]),
        ("conector MC4", ["conector", "mc4"]),
        ("bateria 100Ah 48V 10A", ["bateria", "100ah", "48v", "10a"]),
        ("kit 2 x 550W", ["kit", "2", "550w"]),
        ("ref 103.10400.0002", ["ref", "103.10400.0002"]),  # digits and dots that are no number: kept whole
        ("", []),
    ],
)
def test_terms(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


@pytest.mark.parametrize(
    ("spellings", "term"),
    [
        (["5 kW", "5kW", "5.000 W", "5000W", "5 kWp", "5,0 kW", "5000 Wp", "5k"], "5000w"),
        (["550Wp", "550 W", "550W", "550 wp", "0,55 kW"], "550w"),
        (["5.5 kW", "5,5kW", "5.500 W", "5500w"], "5500w"),
        (["5.125 kW", "5125 W", "5,125 kW"], "5125w"),  # how documents print kW: f"{x:g} kW"
        (["5 kWh", "5.000 Wh", "5kwh"], "5000wh"),
        (["6 mm²", "6mm", "6 mm2"], "6mm"),
        (["220 V", "220V", "220 Vac"], "220v"),
    ],
)
def test_quantity_spellings_share_one_term(spellings: list[str], term: str) -> None:
    for spelling in spellings:
        assert terms(spelling) == [term], spelling
    assert len({tuple(lexical_vector(s).indices) for s in spellings}) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56 W", [Quantity(1234.56, "w")]),
        ("5.000", [Quantity(5000.0, "")]),
        ("5,12 kWh 48 V", [Quantity(5120.0, "wh"), Quantity(48.0, "v")]),
        ("cs6w-550ms", []),  # a model code is not a quantity
    ],
)
def test_quantities(text: str, expected: list[Quantity]) -> None:
    assert quantities(fold(text)) == expected


def test_accents_and_case_fold_to_the_same_vector() -> None:
    assert lexical_vector("MÓDULO Monofásico Cerâmico") == lexical_vector("modulo monofasico ceramico")


def test_weights_are_term_frequencies_with_sorted_indices() -> None:
    vector = lexical_vector("painel 550W painel PAINEL")
    weights = dict(zip(vector.indices, vector.values, strict=True))
    assert weights == {term_index("painel"): 3.0, term_index("550w"): 1.0}
    assert vector.indices == sorted(vector.indices)
    assert all(0 <= i < 2**31 for i in vector.indices)


def test_stopword_only_text_has_no_terms() -> None:
    assert lexical_vector("de para com").indices == []


# Computed once; the index of a term must never change, or stored documents stop matching queries.
KNOWN_INDICES = {"inversor": 910793926, "5000w": 1787039670, "cs6w-550ms": 1378575675}


def test_term_indices_are_fixed() -> None:
    assert {term: term_index(term) for term in KNOWN_INDICES} == KNOWN_INDICES


def test_vectors_are_equal_across_processes_with_different_hash_seeds() -> None:
    script = "from catalog.lexical import lexical_vector as v; print(v('Inversor 5 kW CS6W-550MS').indices)"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert outputs == {str(lexical_vector("Inversor 5 kW CS6W-550MS").indices)}
