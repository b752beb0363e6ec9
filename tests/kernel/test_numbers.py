"""One reading of Brazilian numbers for every source: feeds and tables, questions, documents, spec values."""

from __future__ import annotations

import pytest

from kernel.numbers import parse_decimal, plain_number
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


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("451,66", 451.66),
        (",00", 0.0),
        (",5", 0.5),
        ("0,00", 0.0),
        ("1.234,56", 1234.56),
        ("12", 12.0),
        ("-3,5", -3.5),
        (" 7,25 ", 7.25),
    ],
)
def test_comma_style(text: str, value: float) -> None:
    assert parse_decimal(text, "comma") == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "12.5", "1.23,4", ",", "-", "1 234,5"])
def test_comma_style_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_decimal(text, "comma")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("6,60", 6.6),
        ("1.234,5", 1234.5),
        ("6.6", 6.6),
        ("350.5", 350.5),
        ("1.200", 1200.0),  # a person writing twelve hundred kWh
        ("75", 75.0),
        ("1.234.567,25", 1234567.25),
    ],
)
def test_either_style_reads_what_people_write(text: str, value: float) -> None:
    assert parse_decimal(text) == value


def test_either_style_without_thousands_for_sources_printing_decimals_with_a_dot() -> None:
    assert parse_decimal("-46.633", dots_group_thousands=False) == -46.633  # a longitude
    assert parse_decimal("4,523", dots_group_thousands=False) == 4.523


@pytest.mark.parametrize("text", ["", "-", ".", "abc", "103.10400.0002", "1,2,3", "12 kWh"])
def test_either_style_refuses_what_is_not_one_number(text: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_decimal(text)


def test_dot_style() -> None:
    assert parse_decimal("1,234.56", "dot") == 1234.56
    with pytest.raises(ValueError, match=r"'12,5'"):
        parse_decimal("12,5", "dot")
