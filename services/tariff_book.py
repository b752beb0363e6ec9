"""The residential tariffs the recommender prices savings with, and the default utility of each state.

Read from the tariff store (what `python -m ray_jobs.tariffs` derived); until that job has run — or when
the store has no tariff in force today — from the ANEEL sample shipped in `solar/data`, and the response's
`tariff.source` says which.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from kernel.text import fold
from solar import ResidentialTariff, parse_tariff_rows, residential_tariffs
from solar.parameters import DATA_DIR as SOLAR_DATA_DIR
from solar.tariffs import TariffRow, is_residential_conventional, normalize_cnpj

TARIFF_SAMPLE_FILE = SOLAR_DATA_DIR / "tarifas-amostra.csv"
DEFAULT_UTILITY_FILE = Path(__file__).resolve().parent / "data" / "distribuidora-padrao-uf.csv"


class UnknownUtility(LookupError):
    pass


def _read_default_utilities(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return {row["uf"].upper(): normalize_cnpj(row["cnpj"]) for row in csv.DictReader(lines, delimiter=";")}


class TariffBook:
    """ANEEL's residential B1 tariffs in force and a default utility per state; states without one (or whose
    utility has no tariff here) get the average of the tariffs on file."""

    def __init__(
        self, tariffs: dict[str, ResidentialTariff], utility_by_uf: dict[str, str], source: str
    ) -> None:
        if not tariffs:
            raise ValueError("no residential tariff in force")
        self._tariffs = tariffs
        self._utility_by_uf = {uf: cnpj for uf, cnpj in utility_by_uf.items() if cnpj in tariffs}
        self._by_name = {fold(tariff.agent): tariff for tariff in tariffs.values()}
        self._source = source
        count = len(tariffs)
        self._average = ResidentialTariff(
            cnpj="",
            agent=f"média de {count} distribuidoras",
            reh="",
            valid_from=max(t.valid_from for t in tariffs.values()),
            valid_to=min(t.valid_to for t in tariffs.values()),
            tusd_brl_kwh=sum(t.tusd_brl_kwh for t in tariffs.values()) / count,
            te_brl_kwh=sum(t.te_brl_kwh for t in tariffs.values()) / count,
        )

    @classmethod
    def from_sample(
        cls, on: date, tariff_file: Path = TARIFF_SAMPLE_FILE, utility_file: Path = DEFAULT_UTILITY_FILE
    ) -> TariffBook:
        rows = list(parse_tariff_rows(tariff_file.read_bytes()))
        source = f"ANEEL sample {tariff_file.name}"
        tariffs = residential_tariffs(rows, on)
        if not tariffs:  # the sample has aged out: the last tariffs it has, rather than no endpoint at all
            ends = {r.valid_to for r in rows if isinstance(r, TariffRow) and is_residential_conventional(r)}
            for end in sorted(end for end in ends if end < on):  # each utility's last tariff wins
                tariffs |= residential_tariffs(rows, end)
            source += f" (none in force on {on}: each utility's last tariff)"
        return cls(tariffs, _read_default_utilities(utility_file), source)

    @classmethod
    def from_store(
        cls, tariffs: dict[str, ResidentialTariff], on: date, utility_file: Path = DEFAULT_UTILITY_FILE
    ) -> TariffBook:
        """The store's tariffs in force on `on`; the shipped sample when there are none."""
        if not tariffs:
            book = cls.from_sample(on, utility_file=utility_file)
            book._source += " (the tariff store has none in force: run python -m ray_jobs.tariffs)"
            return book
        return cls(tariffs, _read_default_utilities(utility_file), f"tariff store, derived for {on}")

    def known_utilities(self) -> list[str]:
        return sorted(tariff.agent for tariff in self._tariffs.values())

    def _named(self, utility: str) -> ResidentialTariff | None:
        try:
            by_cnpj = self._tariffs.get(normalize_cnpj(utility))
        except ValueError:
            by_cnpj = None
        return by_cnpj or self._by_name.get(fold(utility))

    def tariff_for(self, uf: str, utility: str | None) -> tuple[ResidentialTariff, str]:
        """The tariff and a sentence saying where it came from; UnknownUtility for a name not on file."""
        if utility is not None:
            tariff = self._named(utility)
            if tariff is None:
                raise UnknownUtility(
                    f"unknown utility {utility!r}; known: {', '.join(self.known_utilities())}"
                )
            return tariff, f"{self._source}, {tariff.reh}: utility asked for"
        cnpj = self._utility_by_uf.get(uf)
        if cnpj is None:
            return self._average, f"{self._source}: no default utility for {uf} on file, average tariff"
        tariff = self._tariffs[cnpj]
        return tariff, f"{self._source}, {tariff.reh}: default utility of {uf}"
