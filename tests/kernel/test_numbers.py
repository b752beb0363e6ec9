"""One reading of Brazilian numbers for every text the platform analyses (catalog queries, Hélio's terms)."""

from __future__ import annotations

import pytest

from kernel.numbers import plain_number
from kernel.text import fold, strip_accents


@pytest.mark.parametrize(
    ("written", "grouped", "plain"),
    [
        ("1.234,56", True, "1234.56"),
        ("0,5", True, "0.5"),
        ("14.300", True, "14300"),
        ("5.125", False, "5.125"),  # a decimal kW, as f"{x:g}" prints it
        ("1.000.000", True, "1000000"),
        ("103.10400.0002", True, "103.10400.0002"),  # a part code: as written
        ("550", True, "550"),
    ],
)
def test_plain_number(written: str, grouped: bool, plain: str) -> None:
    assert plain_number(written, dots_group_thousands=grouped) == plain


def test_one_folding_and_the_accents_alone() -> None:
    assert fold("  Módulo  MONOFÁSICO mm² ") == "modulo monofasico mm2"
    assert strip_accents("Inversor Híbrido  5kW") == "Inversor Hibrido  5kW"  # case and spacing kept
