"""The recommender's tariff seam until it reads the tariff store: the ANEEL sample, a utility per UF."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from solar import ResidentialTariff, Site, parse_tariff_rows, residential_tariffs
from solar.parameters import DATA_DIR as SOLAR_DATA_DIR
from solar.tariffs import TariffRow, is_residential_conventional, normalize_cnpj
from solar.text import fold

TARIFF_SAMPLE_FILE = SOLAR_DATA_DIR / "tarifas-amostra.csv"
DEFAULT_UTILITY_FILE = Path(__file__).resolve().parent / "data" / "distribuidora-padrao-uf.csv"


class UnknownUtility(LookupError):
    pass


def _read_default_utilities(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return {row["uf"].upper(): normalize_cnpj(row["cnpj"]) for row in csv.DictReader(lines, delimiter=";")}


class DefaultTariffs:
    """The tariff seam until a tariff store exists: ANEEL's residential B1 tariffs in force (from the sample
    file in `solar/data`) and a default utility per state; states without one get the sample's average."""

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
    ) -> DefaultTariffs:
        rows = list(parse_tariff_rows(tariff_file.read_bytes()))
        source = f"ANEEL sample {tariff_file.name}"
        tariffs = residential_tariffs(rows, on)
        if not tariffs:  # the sample has aged out: the last tariffs it has, rather than no endpoint at all
            ends = {r.valid_to for r in rows if isinstance(r, TariffRow) and is_residential_conventional(r)}
            for end in sorted(end for end in ends if end < on):  # each utility's last tariff wins
                tariffs |= residential_tariffs(rows, end)
            source += f" (none in force on {on}: each utility's last tariff)"
        return cls(tariffs, _read_default_utilities(utility_file), source)

    def known_utilities(self) -> list[str]:
        return sorted(tariff.agent for tariff in self._tariffs.values())

    def _named(self, utility: str) -> ResidentialTariff | None:
        try:
            by_cnpj = self._tariffs.get(normalize_cnpj(utility))
        except ValueError:
            by_cnpj = None
        return by_cnpj or self._by_name.get(fold(utility))

    def tariff_for(self, site: Site, utility: str | None) -> tuple[ResidentialTariff, str]:
        """The tariff and a sentence saying where it came from; UnknownUtility for a name not on file."""
        if utility is not None:
            tariff = self._named(utility)
            if tariff is None:
                raise UnknownUtility(
                    f"unknown utility {utility!r}; known: {', '.join(self.known_utilities())}"
                )
            return tariff, f"{self._source}, {tariff.reh}: utility asked for"
        cnpj = self._utility_by_uf.get(site.uf)
        if cnpj is None:
            return self._average, f"{self._source}: no default utility for {site.uf}, average tariff"
        tariff = self._tariffs[cnpj]
        return tariff, f"{self._source}, {tariff.reh}: default utility of {site.uf}"
