"""Number, money, unit and phase parsing: the shapes Brazilian distributors write, and garbage."""

from __future__ import annotations

import pytest

from catalog.units import (
    UnknownUnitError,
    parse_decimal,
    parse_int,
    parse_measure,
    parse_money_brl,
    parse_phases,
)


@pytest.mark.parametrize(
    ("raw", "decimal", "expected"),
    [
        ("1.234,56", "comma", 1234.56),
        ("1234,56", "comma", 1234.56),
        ("1.234.567,8", "comma", 1234567.8),
        ("-0,29", "comma", -0.29),
        ("550", "comma", 550.0),
        ("1,234.56", "dot", 1234.56),
        ("0.55", "dot", 0.55),
        (" 12 ", "dot", 12.0),
        ("1\u00a0234", "dot", 1234.0),
        (7, "dot", 7.0),
        (2.5, "comma", 2.5),
    ],
)
def test_parse_decimal(raw: object, decimal: str, expected: float) -> None:
    assert parse_decimal(raw, decimal) == pytest.approx(expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "decimal"),
    [
        ("12,5", "dot"),  # a comma decimal in a dot feed is refused, not guessed
        ("1234.56", "comma"),
        ("1.23,4", "comma"),  # thousands groups have three digits
        ("1.234,5O", "comma"),
        ("12..5", "dot"),
        ("", "dot"),
        ("abc", "dot"),
        (True, "dot"),
        (None, "dot"),
        ([1], "dot"),
    ],
)
def test_parse_decimal_refuses_garbage_and_quotes_it(raw: object, decimal: str) -> None:
    with pytest.raises(ValueError, match="number") as raised:
        parse_decimal(raw, decimal)  # type: ignore[arg-type]
    assert repr(raw) in str(raised.value) or repr(str(raw).strip()) in str(raised.value)


@pytest.mark.parametrize(
    ("raw", "decimal", "expected"),
    [
        ("R$ 1.234,56", "comma", 1234.56),
        ("R$1.234,56", "comma", 1234.56),
        ("r$ 99,90", "comma", 99.9),
        ("BRL 99,90", "comma", 99.9),
        ("1234.56", "dot", 1234.56),
        ("1,234.56 BRL", "dot", 1234.56),
        (1234.5, "comma", 1234.5),
        ("0,00", "comma", 0.0),
    ],
)
def test_parse_money_brl(raw: object, decimal: str, expected: float) -> None:
    assert parse_money_brl(raw, decimal) == pytest.approx(expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "decimal"),
    [("R$ -5,00", "comma"), ("sob consulta", "comma"), ("R$ 1.2O0,00", "comma"), (-1, "dot")],
)
def test_parse_money_brl_refuses_garbage(raw: object, decimal: str) -> None:
    with pytest.raises(ValueError):
        parse_money_brl(raw, decimal)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "dimension", "default_unit", "decimal", "expected"),
    [
        ("550Wp", "power", None, "comma", 550.0),
        ("550 WP", "power", None, "comma", 550.0),
        ("5.000 W", "power", None, "comma", 5000.0),
        ("5kW", "power", None, "dot", 5000.0),
        ("5,5 kWp", "power", None, "comma", 5500.0),
        ("0.55", "power", "kW", "dot", 550.0),
        (0.55, "power", "kW", "dot", 550.0),
        (4.4, "power", "kWp", "dot", 4400.0),
        (550, "power", None, "dot", 550.0),
        ("550", "power", "W", "comma", 550.0),
        ("41,7 V", "voltage", None, "comma", 41.7),
        ("1.000 Vdc", "voltage", None, "comma", 1000.0),
        ("13,9 A", "current", None, "comma", 13.9),
        ("500 mA", "current", None, "dot", 0.5),
        ("5,12 kWh", "energy", None, "comma", 5.12),
        ("5120 Wh", "energy", None, "dot", 5.12),
        ("6 mm²", "section", None, "comma", 6.0),
        ("2,5mm2", "section", None, "comma", 2.5),
        ("100 m", "length", None, "comma", 100.0),
        ("-0,29 %/°C", "temp_coeff", None, "comma", -0.29),
        ("-0.35 %/K", "temp_coeff", None, "dot", -0.35),
        ("21,3 %", "percent", None, "comma", 21.3),
        ("5 dias", "days", None, "comma", 5.0),
        ("10 days", "days", None, "dot", 10.0),
    ],
)
def test_parse_measure(
    raw: object, dimension: str, default_unit: str | None, decimal: str, expected: float
) -> None:
    parsed = parse_measure(raw, dimension, default_unit=default_unit, decimal=decimal)  # type: ignore[arg-type]
    assert parsed == pytest.approx(expected)


@pytest.mark.parametrize(
    ("raw", "dimension", "unit"),
    [
        ("550 Wh", "power", "Wh"),  # energy where power belongs
        ("5 HP", "power", "HP"),
        ("4,4 kVAh", "power", "kVAh"),
        ("6 AWG", "section", "AWG"),
        ("220 volts", "voltage", "volts"),
    ],
)
def test_parse_measure_names_an_unknown_unit(raw: str, dimension: str, unit: str) -> None:
    with pytest.raises(UnknownUnitError, match=f"unknown {dimension} unit '{unit}'"):
        parse_measure(raw, dimension, decimal="comma")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "dimension"), [("N/D", "power"), ("5.5.5 W", "power"), ("", "voltage"), (None, "power")]
)
def test_parse_measure_refuses_a_value_that_is_no_number(raw: object, dimension: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_measure(raw, dimension, decimal="dot")  # type: ignore[arg-type]
    assert not isinstance(raised.value, UnknownUnitError)


@pytest.mark.parametrize(
    ("raw", "decimal", "expected"),
    [("1.200", "comma", 1200), ("12", "dot", 12), (3.0, "dot", 3), (7, "comma", 7)],
)
def test_parse_int(raw: object, decimal: str, expected: int) -> None:
    assert parse_int(raw, decimal) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["12,5", 2.5, "dez", ""])
def test_parse_int_refuses_fractions_and_words(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_int(raw, "comma")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1, 1),
        (3, 3),
        (2.0, 2),
        ("1", 1),
        ("Monofásico", 1),
        ("MONOFASICO", 1),
        ("mono", 1),
        ("1F", 1),
        ("single-phase", 1),
        ("Bifásico", 2),
        ("split-phase", 2),
        ("Trifásico", 3),
        (" tri ", 3),
        ("3F", 3),
        ("three-phase", 3),
    ],
)
def test_parse_phases(raw: object, expected: int) -> None:
    assert parse_phases(raw) == expected


@pytest.mark.parametrize("raw", [4, 0, "quadrifásico", "", None, True])
def test_parse_phases_refuses_other_values(raw: object) -> None:
    with pytest.raises(ValueError, match="phases"):
        parse_phases(raw)
