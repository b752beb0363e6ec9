"""ANEEL's "Tarifas de Aplicação das Distribuidoras" CSV, and the residential B1 tariff derived from it.

The file (`tarifas-homologadas-distribuidoras-energia-eletrica.csv`, ~330k rows) is `;` separated, every
field quoted, UTF-8 with a BOM, decimal comma (`,00` is zero), ISO dates, 17 columns in a fixed order.
`parse_tariff_rows` streams it and never raises on a bad row: the row comes back rejected, with a reason.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from kernel.numbers import parse_decimal
from kernel.text import fold

COLUMNS = (
    "DatGeracaoConjuntoDados", "DscREH", "SigAgente", "NumCNPJDistribuidora", "DatInicioVigencia",
    "DatFimVigencia", "DscBaseTarifaria", "DscSubGrupo", "DscModalidadeTarifaria", "DscClasse",
    "DscSubClasse", "DscDetalhe", "NomPostoTarifario", "DscUnidadeTerciaria", "SigAgenteAcessante",
    "VlrTUSD", "VlrTE",
)  # fmt: skip


class TariffRow(BaseModel):
    """One accepted row. TUSD and TE are in R$ per `unit` (MWh or kW) as published."""

    model_config = ConfigDict(frozen=True)

    line: int
    generated_on: date
    reh: str
    agent: str
    cnpj: str
    valid_from: date
    valid_to: date
    tariff_base: str
    subgroup: str
    modality: str
    consumer_class: str
    subclass: str
    detail: str
    time_slot: str
    unit: str
    accessing_agent: str
    tusd: float
    te: float


class RejectedTariffRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    line: int
    raw: str
    reason: str


class ResidentialTariff(BaseModel):
    """A utility's B1 residential conventional tariff in force on a date, R$/kWh without taxes."""

    model_config = ConfigDict(frozen=True)

    cnpj: str
    agent: str
    reh: str
    valid_from: date
    valid_to: date
    tusd_brl_kwh: float
    te_brl_kwh: float

    @property
    def tariff_brl_kwh(self) -> float:
        return self.tusd_brl_kwh + self.te_brl_kwh


def parse_iso_date(text: str) -> date:
    """`2026-05-28`, or a timestamp `2026-05-28 10:00:00` / `2026-05-28T10:00:00` (its day)."""
    value = text.strip()
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value).date()
    except ValueError:
        raise ValueError(f"not an ISO date: {text!r}") from None


def normalize_cnpj(text: str) -> str:
    """14 digits, punctuation dropped and leading zeros restored (some exports write it as a number)."""
    digits = re.sub(r"[.\-/\s]", "", text)
    if not digits.isdigit() or len(digits) > 14:
        raise ValueError(f"not a CNPJ: {text!r}")
    return digits.zfill(14)


def _decoded_lines(source: bytes | str | Iterable[str] | Iterable[bytes]) -> Iterator[tuple[int, str | None]]:
    """(line number, text); text None when the line is not valid UTF-8. The BOM of line 1 is dropped.
    Rows are one line each (ANEEL's fields hold no line breaks), so a bad line rejects only itself."""
    lines: Iterable[str | bytes] = source.splitlines() if isinstance(source, bytes | str) else source
    for number, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        except UnicodeDecodeError:
            yield number, None
            continue
        if number == 1:
            text = text.removeprefix("\ufeff")
        yield number, text.rstrip("\r\n")


def _row(line: int, fields: list[str]) -> TariffRow:
    values = dict(zip(COLUMNS, (field.strip() for field in fields), strict=True))
    numbers = {}
    for column in ("VlrTUSD", "VlrTE"):
        try:
            numbers[column] = parse_decimal(values[column], "comma")
        except ValueError as error:
            raise ValueError(f"{column}: {error}") from None
    dates = {}
    for column in ("DatGeracaoConjuntoDados", "DatInicioVigencia", "DatFimVigencia"):
        try:
            dates[column] = parse_iso_date(values[column])
        except ValueError as error:
            raise ValueError(f"{column}: {error}") from None
    if dates["DatFimVigencia"] < dates["DatInicioVigencia"]:
        raise ValueError("DatFimVigencia is before DatInicioVigencia")
    return TariffRow(
        line=line,
        generated_on=dates["DatGeracaoConjuntoDados"],
        reh=values["DscREH"],
        agent=values["SigAgente"],
        cnpj=normalize_cnpj(values["NumCNPJDistribuidora"]),
        valid_from=dates["DatInicioVigencia"],
        valid_to=dates["DatFimVigencia"],
        tariff_base=values["DscBaseTarifaria"],
        subgroup=values["DscSubGrupo"],
        modality=values["DscModalidadeTarifaria"],
        consumer_class=values["DscClasse"],
        subclass=values["DscSubClasse"],
        detail=values["DscDetalhe"],
        time_slot=values["NomPostoTarifario"],
        unit=values["DscUnidadeTerciaria"],
        accessing_agent=values["SigAgenteAcessante"],
        tusd=numbers["VlrTUSD"],
        te=numbers["VlrTE"],
    )


def _header_problem(header: tuple[str, ...]) -> str:
    if len(header) != len(COLUMNS):
        return f"unexpected header: {len(header)} columns, expected the {len(COLUMNS)} ANEEL columns"
    position, (found, wanted) = next(
        (i, pair) for i, pair in enumerate(zip(header, COLUMNS, strict=True)) if pair[0] != pair[1]
    )
    return f"unexpected header: column {position + 1} is {found!r}, expected {wanted!r}"


def parse_tariff_rows(
    source: bytes | str | Iterable[str] | Iterable[bytes], *, has_header: bool = True
) -> Iterator[TariffRow | RejectedTariffRow]:
    """Stream the ANEEL CSV: whole file (bytes/str) or its lines. A header other than the 17 documented
    columns rejects the file (line 1) rather than misreading every row; blank lines are skipped."""
    lines = _decoded_lines(source)
    for number, text in lines:
        if text is None:
            yield RejectedTariffRow(line=number, raw="", reason="not valid UTF-8")
            continue
        if not text.strip():
            continue
        fields = next(csv.reader([text], delimiter=";", quotechar='"'))
        if has_header:
            has_header = False
            header = tuple(field.strip() for field in fields)
            if header != COLUMNS:
                yield RejectedTariffRow(line=number, raw=text, reason=_header_problem(header))
                return
            continue
        if len(fields) != len(COLUMNS):
            yield RejectedTariffRow(
                line=number, raw=text, reason=f"expected {len(COLUMNS)} columns, got {len(fields)}"
            )
            continue
        try:
            yield _row(number, fields)
        except ValueError as error:
            yield RejectedTariffRow(line=number, raw=text, reason=str(error))


# The residential conventional tariff (DOMAIN.md §4), compared accent- and case-insensitively.
_RESIDENTIAL_FILTER = {
    "tariff_base": "tarifa de aplicacao",
    "subgroup": "b1",
    "modality": "convencional",
    "consumer_class": "residencial",
    "subclass": "residencial",
    "detail": "nao se aplica",
    "unit": "mwh",
}


def is_residential_conventional(row: TariffRow) -> bool:
    return all(fold(getattr(row, field)) == wanted for field, wanted in _RESIDENTIAL_FILTER.items())


def residential_tariffs(
    rows: Iterable[TariffRow | RejectedTariffRow], on: date
) -> dict[str, ResidentialTariff]:
    """CNPJ → the B1 residential conventional tariff in force on `on` (valid_from ≤ on ≤ valid_to). The
    latest DatInicioVigencia wins; for the same start, the most recently generated row. R$/MWh → R$/kWh."""
    chosen: dict[str, TariffRow] = {}
    for row in rows:
        if not isinstance(row, TariffRow) or not is_residential_conventional(row):
            continue
        if not row.valid_from <= on <= row.valid_to:
            continue
        current = chosen.get(row.cnpj)
        if current is None or (row.valid_from, row.generated_on) > (current.valid_from, current.generated_on):
            chosen[row.cnpj] = row
    return {
        cnpj: ResidentialTariff(
            cnpj=cnpj,
            agent=row.agent,
            reh=row.reh,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            tusd_brl_kwh=row.tusd / 1000,
            te_brl_kwh=row.te / 1000,
        )
        for cnpj, row in sorted(chosen.items())
    }
