"""Sites and their irradiation, from the Atlas Brasileiro de Energia Solar (INPE/LABREN, 2017).

The municipal CSV: `ID;LON;LAT;NAME;CLASS;STATE;ANNUAL;JAN;…;DEC`, irradiation in Wh/m²/day (HSP is the
same number in kWh/m²/day). A site is found by city + UF (accents and case ignored) or by the nearest
point to a latitude/longitude. An unknown city raises `UnknownPlace`, which carries the closest names.
"""

from __future__ import annotations

import csv
import difflib
import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from kernel.numbers import parse_decimal
from kernel.text import fold
from solar.parameters import DATA_DIR, UFS

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
HEADER = ("ID", "LON", "LAT", "NAME", "CLASS", "STATE", "ANNUAL", *MONTHS)
CAPITALS_FILE = DATA_DIR / "irradiancia-capitais.csv"
EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
STATE_NAMES = {
    "AC": "Acre", "AL": "Alagoas", "AM": "Amazonas", "AP": "Amapá", "BA": "Bahia", "CE": "Ceará",
    "DF": "Distrito Federal", "ES": "Espírito Santo", "GO": "Goiás", "MA": "Maranhão", "MG": "Minas Gerais",
    "MS": "Mato Grosso do Sul", "MT": "Mato Grosso", "PA": "Pará", "PB": "Paraíba", "PE": "Pernambuco",
    "PI": "Piauí", "PR": "Paraná", "RJ": "Rio de Janeiro", "RN": "Rio Grande do Norte", "RO": "Rondônia",
    "RR": "Roraima", "RS": "Rio Grande do Sul", "SC": "Santa Catarina", "SE": "Sergipe", "SP": "São Paulo",
    "TO": "Tocantins",
}  # fmt: skip
_UF_BY_FOLDED = {fold(uf): uf for uf in UFS} | {fold(name): uf for uf, name in STATE_NAMES.items()}


class Site(BaseModel):
    """One Atlas point (a municipality): where it is and its global horizontal irradiation."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    uf: str
    place_class: str
    lat: float
    lon: float
    annual_wh_m2_day: float
    monthly_wh_m2_day: tuple[float, ...]

    @property
    def label(self) -> str:
        return f"{self.name}/{self.uf}"

    @property
    def hsp(self) -> float:
        """Annual average HSP, kWh/m²/day."""
        return self.annual_wh_m2_day / 1000

    @property
    def monthly_hsp(self) -> list[float]:
        return [value / 1000 for value in self.monthly_wh_m2_day]


class RejectedSiteRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    line: int
    raw: str
    reason: str


class UnknownPlace(LookupError):
    """No site by that name; `suggestions` are the closest known `City/UF` names, best first."""

    def __init__(self, query: str, suggestions: list[str]) -> None:
        hint = f"; closest: {', '.join(suggestions)}" if suggestions else ""
        super().__init__(f"unknown place {query!r}{hint}")
        self.query = query
        self.suggestions = suggestions


def _atlas_number(text: str) -> float:
    # The Atlas tables print decimals with a dot or a comma and never group thousands (`-46.633`).
    return parse_decimal(text, dots_group_thousands=False)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:  # exports of the Atlas tables are often Windows-1252
        return data.decode("cp1252")


def parse_site_rows(data: bytes) -> Iterator[Site | RejectedSiteRow]:
    """Every row of an Atlas municipal CSV, as a Site or a rejection with its reason. `#` lines are
    comments (the shipped sample labels itself with them); the header row must be the Atlas one."""
    header_seen = False
    for number, text in enumerate(_decode(data).splitlines(), start=1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        fields = [field.strip() for field in next(csv.reader([text], delimiter=";"))]
        if not header_seen:
            header_seen = True
            if tuple(field.upper() for field in fields) != HEADER:
                yield RejectedSiteRow(
                    line=number, raw=text, reason=f"unexpected header, expected {';'.join(HEADER)}"
                )
                return
            continue
        try:
            yield _site(fields)
        except ValueError as error:
            yield RejectedSiteRow(line=number, raw=text, reason=str(error))


def _site(fields: list[str]) -> Site:
    if len(fields) != len(HEADER):
        raise ValueError(f"expected {len(HEADER)} columns, got {len(fields)}")
    row = dict(zip(HEADER, fields, strict=True))
    uf = _UF_BY_FOLDED.get(fold(row["STATE"]))
    if uf is None:
        raise ValueError(f"unknown state {row['STATE']!r}")
    try:
        lat, lon = _atlas_number(row["LAT"]), _atlas_number(row["LON"])
        annual = _atlas_number(row["ANNUAL"])
        monthly = tuple(_atlas_number(row[month]) for month in MONTHS)
    except ValueError:
        raise ValueError("LAT, LON, ANNUAL and the months must be numbers") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"coordinates out of range: {lat}, {lon}")
    if annual <= 0 or any(value < 0 for value in monthly):
        raise ValueError("irradiation must be positive")
    if not row["NAME"]:
        raise ValueError("empty NAME")
    return Site(
        id=row["ID"],
        name=row["NAME"],
        uf=uf,
        place_class=row["CLASS"],
        lat=lat,
        lon=lon,
        annual_wh_m2_day=annual,
        monthly_wh_m2_day=monthly,
    )


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a spherical Earth (error < 0.5 %: plenty to pick the nearest point)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


class Atlas:
    """The sites of one Atlas file, indexed for lookups. `rejected` keeps the rows that did not load."""

    def __init__(self, sites: Iterable[Site], rejected: Iterable[RejectedSiteRow] = ()) -> None:
        self.sites = list(sites)
        self.rejected = list(rejected)
        self._by_key: dict[tuple[str, str], Site] = {}
        for site in self.sites:  # the first of duplicate names wins, so lookups are stable
            self._by_key.setdefault((fold(site.name), site.uf), site)
        self._labels_by_name: dict[str, list[str]] = {}
        for (name, _uf), site in self._by_key.items():
            self._labels_by_name.setdefault(name, []).append(site.label)
        self._mention: re.Pattern[str] | None = None

    @classmethod
    def from_csv(cls, data: bytes) -> Atlas:
        parsed = list(parse_site_rows(data))
        return cls(
            (row for row in parsed if isinstance(row, Site)),
            (row for row in parsed if isinstance(row, RejectedSiteRow)),
        )

    @classmethod
    def from_path(cls, path: Path | str) -> Atlas:
        return cls.from_csv(Path(path).read_bytes())

    def find(self, city: str, uf: str) -> Site:
        """The site named `city` in `uf`, e.g. ("sao paulo", "sp"); UnknownPlace with suggestions if none."""
        state = _UF_BY_FOLDED.get(fold(uf), uf.strip().upper())
        site = self._by_key.get((fold(city), state))
        if site is None:
            raise UnknownPlace(f"{city}/{uf}", self.closest_names(city, state))
        return site

    def mentioned_in(self, text: str) -> Site | None:
        """The site a sentence names ("800 kWh em Recife", "Belo Horizonte/MG"): the longest name found,
        in the state written after it when there is one; None if it names none. Names shorter than four
        letters are left out, so a word is not read as a place."""
        if self._mention is None:
            names = sorted((n for n in self._labels_by_name if len(n) >= 4), key=len, reverse=True)
            self._mention = re.compile(
                rf"\b({'|'.join(map(re.escape, names)) or '(?!)'})\b(?:\s*(?:/|-|,)?\s*([a-z]{{2}})\b)?"
            )
        found = self._mention.search(fold(text))
        if found is None:
            return None
        name, written_uf = found.group(1), (found.group(2) or "").upper()
        matches = [site for (site_name, _uf), site in self._by_key.items() if site_name == name]
        return next((site for site in matches if site.uf == written_uf), matches[0])

    def closest_names(self, city: str, uf: str | None = None, limit: int = 5) -> list[str]:
        """`City/UF` labels whose names are closest to `city` (difflib ratio ≥ 0.6), best first; the same
        name in another state counts, and among equal names the state asked for comes first."""
        ranked = difflib.get_close_matches(fold(city), list(self._labels_by_name), n=limit, cutoff=0.6)
        wanted_uf = (uf or "").upper()
        labels = [
            label
            for name in ranked
            for label in sorted(
                self._labels_by_name[name], key=lambda label: (label[-2:] != wanted_uf, label)
            )
        ]
        return labels[:limit]

    def nearest(self, lat: float, lon: float) -> tuple[Site, float]:
        """The closest site to a point and its distance in km."""
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError(f"coordinates out of range: {lat}, {lon}")
        if not self.sites:
            raise LookupError("the atlas has no sites")
        distances = (
            (haversine_km(lat, lon, site.lat, site.lon), index) for index, site in enumerate(self.sites)
        )
        distance, index = min(distances)
        return self.sites[index], distance


def capitals_atlas() -> Atlas:
    """The shipped sample: the 27 state capitals (approximate values)."""
    return Atlas.from_path(CAPITALS_FILE)
