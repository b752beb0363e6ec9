"""ANEEL tariff CSV: parsing the published format, rejecting bad rows, deriving the residential B1 tariff."""

from __future__ import annotations

from datetime import date

import pytest

from solar.parameters import DATA_DIR
from solar.tariffs import (
    COLUMNS,
    RejectedTariffRow,
    TariffRow,
    normalize_cnpj,
    parse_tariff_rows,
    residential_tariffs,
)

CEMIG = "06981180000116"
NA = "Não se aplica"
ON = date(2026, 9, 1)


def line(**changes: str) -> str:
    """One data line in the published format: every field quoted, `;` separated, decimal comma."""
    fields = {
        "DatGeracaoConjuntoDados": "2026-11-20",
        "DscREH": "REH 1/2026",
        "SigAgente": "CEMIG-D",
        "NumCNPJDistribuidora": CEMIG,
        "DatInicioVigencia": "2026-01-01",
        "DatFimVigencia": "2026-12-31",
        "DscBaseTarifaria": "Tarifa de Aplicação",
        "DscSubGrupo": "B1",
        "DscModalidadeTarifaria": "Convencional",
        "DscClasse": "Residencial",
        "DscSubClasse": "Residencial",
        "DscDetalhe": NA,
        "NomPostoTarifario": NA,
        "DscUnidadeTerciaria": "MWh",
        "SigAgenteAcessante": NA,
        "VlrTUSD": "400,00",
        "VlrTE": "300,00",
    } | changes
    return ";".join(f'"{fields[column]}"' for column in COLUMNS)


HEADER = ";".join(f'"{column}"' for column in COLUMNS)


def parse(*lines: str) -> list[TariffRow | RejectedTariffRow]:
    return list(parse_tariff_rows("\r\n".join([HEADER, *lines]).encode("utf-8-sig")))


def test_the_shipped_sample_parses_without_rejects() -> None:
    rows = list(parse_tariff_rows((DATA_DIR / "tarifas-amostra.csv").read_bytes()))
    assert rows and all(isinstance(row, TariffRow) for row in rows)
    tariffs = residential_tariffs(rows, ON)
    assert len(tariffs) >= 10
    cemig = tariffs[CEMIG]
    assert (cemig.tusd_brl_kwh, cemig.te_brl_kwh) == (pytest.approx(0.49753), pytest.approx(0.29012))
    assert cemig.tariff_brl_kwh == pytest.approx(0.78765)
    assert cemig.valid_from == date(2026, 5, 28)  # not last year's, expired on ON


@pytest.mark.parametrize(
    ("on", "start", "tariff"),
    [
        (date(2026, 9, 1), date(2025, 11, 3), 0.42190 + 0.27460),
        (date(2026, 11, 24), date(2026, 11, 3), 0.43975 + 0.28115),  # the next vigência has started
        (date(2024, 12, 1), date(2024, 11, 3), 0.40110 + 0.26500),
    ],
)
def test_the_vigencia_in_force_on_the_date(on: date, start: date, tariff: float) -> None:
    rows = list(parse_tariff_rows((DATA_DIR / "tarifas-amostra.csv").read_bytes()))
    brasilia = residential_tariffs(rows, on)["07522669000192"]
    assert brasilia.valid_from == start
    assert brasilia.tariff_brl_kwh == pytest.approx(tariff)


def test_nothing_in_force_long_ago() -> None:
    rows = list(parse_tariff_rows((DATA_DIR / "tarifas-amostra.csv").read_bytes()))
    assert residential_tariffs(rows, date(2015, 1, 1)) == {}


# Each variant starts later than the base row, so it would win if the filter let it through.
@pytest.mark.parametrize(
    "variant",
    [
        {"DscBaseTarifaria": "Base Econômica"},
        {"DscSubGrupo": "B3"},
        {"DscSubGrupo": "B2"},
        {"DscModalidadeTarifaria": "Branca", "NomPostoTarifario": "Fora ponta"},
        {"DscDetalhe": "SCEE"},
        {"DscDetalhe": "APE"},
        {"DscClasse": "Comercial, Serviços e Outras"},
        {"DscSubClasse": "Baixa Renda"},
        {"DscUnidadeTerciaria": "kW"},
        {"DatFimVigencia": "2026-07-31"},  # expired before ON
        {"DatInicioVigencia": "2026-10-01"},  # not in force yet on ON
    ],
    ids=lambda v: "-".join(v.values()),
)
def test_filters(variant: dict[str, str]) -> None:
    changes = {"DatInicioVigencia": "2026-06-01", "VlrTUSD": "999,99", "VlrTE": "888,88"} | variant
    tariffs = residential_tariffs(parse(line(), line(**changes)), ON)
    assert tariffs[CEMIG].tariff_brl_kwh == pytest.approx(0.7)  # (400 + 300) / 1000


def test_filters_ignore_accents_and_case() -> None:
    rows = parse(line(DscBaseTarifaria="TARIFA DE APLICACAO", DscDetalhe="nao se aplica", DscSubGrupo="b1"))
    assert residential_tariffs(rows, ON)[CEMIG].tariff_brl_kwh == pytest.approx(0.7)


def test_latest_start_wins_then_latest_generation() -> None:
    rows = parse(
        line(),
        line(DatInicioVigencia="2026-06-01", VlrTUSD="410,00"),  # a review mid-vigência: both in force
        line(DatInicioVigencia="2026-03-01", VlrTUSD="420,00"),
    )
    assert residential_tariffs(rows, ON)[CEMIG].tusd_brl_kwh == pytest.approx(0.41)
    rows = parse(line(VlrTE="301,00"), line(DatGeracaoConjuntoDados="2026-11-21", VlrTE="305,00"), line())
    assert residential_tariffs(rows, ON)[CEMIG].te_brl_kwh == pytest.approx(0.305)


def test_utilities_are_keyed_by_cnpj_not_by_name() -> None:
    rows = parse(line(SigAgente="CEMIG"), line(SigAgente="CEMIG-D", DatInicioVigencia="2026-06-01"))
    assert list(residential_tariffs(rows, ON)) == [CEMIG]
    rows = parse(line(), line(NumCNPJDistribuidora="6981180000116", DatInicioVigencia="2026-06-01"))
    assert list(residential_tariffs(rows, ON)) == [CEMIG]  # leading zero restored


@pytest.mark.parametrize(
    ("raw", "cnpj"), [("06981180000116", CEMIG), ("6981180000116", CEMIG), ("06.981.180/0001-16", CEMIG)]
)
def test_cnpj(raw: str, cnpj: str) -> None:
    assert normalize_cnpj(raw) == cnpj


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        (line().rsplit(";", 1)[0], "expected 17 columns, got 16"),
        (line() + ';"x"', "expected 17 columns, got 18"),
        (line(VlrTE="abc"), "VlrTE"),
        (line(VlrTUSD=""), "VlrTUSD"),
        (line(DatInicioVigencia="2026-13-01"), "DatInicioVigencia"),
        (line(DatFimVigencia="31/12/2026"), "DatFimVigencia"),
        (line(DatFimVigencia="2025-12-31"), "before"),
        (line(NumCNPJDistribuidora="CEMIG"), "CNPJ"),
        ('"unterminated;', "columns"),
    ],
)
def test_bad_rows_are_rejected_with_a_reason(bad_line: str, reason: str) -> None:
    rows = parse(line(), bad_line, line(DatInicioVigencia="2026-02-01"))
    assert [type(row).__name__ for row in rows] == ["TariffRow", "RejectedTariffRow", "TariffRow"]
    rejected = rows[1]
    assert isinstance(rejected, RejectedTariffRow)
    assert rejected.line == 3 and rejected.raw == bad_line
    assert reason in rejected.reason


def test_invalid_utf8_rejects_only_its_line() -> None:
    data = [HEADER.encode(), line().encode(), b'"\xff\xfe broken"', line().encode()]
    rows = list(parse_tariff_rows(data))
    assert [type(r).__name__ for r in rows] == ["TariffRow", "RejectedTariffRow", "TariffRow"]
    assert "UTF-8" in rows[1].reason  # type: ignore[union-attr]


def test_a_wrong_header_rejects_the_file() -> None:
    swapped = HEADER.replace('"VlrTUSD";"VlrTE"', '"VlrTE";"VlrTUSD"')
    rows = list(parse_tariff_rows("\n".join([swapped, line()])))
    assert len(rows) == 1 and isinstance(rows[0], RejectedTariffRow)
    assert "column 16" in rows[0].reason and "'VlrTE'" in rows[0].reason


@pytest.mark.parametrize("form", ["bytes", "str", "str-lines", "bytes-lines"])
def test_input_forms(form: str) -> None:
    text = "\ufeff" + HEADER + "\r\n" + line() + "\r\n\r\n"
    source: object = {
        "bytes": text.encode("utf-8"),
        "str": text,
        "str-lines": text.splitlines(keepends=True),
        "bytes-lines": text.encode("utf-8").splitlines(keepends=True),
    }[form]
    rows = list(parse_tariff_rows(source))  # type: ignore[arg-type]
    assert len(rows) == 1 and isinstance(rows[0], TariffRow)
    assert rows[0].tusd == 400.0 and rows[0].detail == NA and rows[0].unit == "MWh"


def test_timestamps_and_no_header() -> None:
    rows = list(parse_tariff_rows([line(DatGeracaoConjuntoDados="2026-11-20 10:11:12")], has_header=False))
    assert isinstance(rows[0], TariffRow) and rows[0].generated_on == date(2026, 11, 20)
