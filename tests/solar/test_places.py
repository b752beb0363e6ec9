"""Sites: the Atlas CSV format, lookup by city + UF (accents and case ignored) and by nearest lat/lon."""

from __future__ import annotations

import pytest

from solar.places import (
    Atlas,
    RejectedSiteRow,
    Site,
    UnknownPlace,
    capitals_atlas,
    haversine_km,
    parse_site_rows,
)

HEADER = "ID;LON;LAT;NAME;CLASS;STATE;ANNUAL;JAN;FEB;MAR;APR;MAY;JUN;JUL;AUG;SEP;OCT;NOV;DEC"
MONTHS = ";".join(["5000"] * 12)


@pytest.fixture(scope="module")
def atlas() -> Atlas:
    return capitals_atlas()


def test_the_sample_has_the_27_capitals(atlas: Atlas) -> None:
    assert len(atlas.sites) == 27 and not atlas.rejected
    assert len({site.uf for site in atlas.sites}) == 27
    assert all(4.0 <= site.hsp <= 6.2 for site in atlas.sites)  # DOMAIN.md: about 4.2 (South) to 6.0


@pytest.mark.parametrize(
    ("city", "uf", "label"),
    [
        ("São Paulo", "SP", "São Paulo/SP"),
        ("sao paulo", "sp", "São Paulo/SP"),
        ("SAO PAULO", "São Paulo", "São Paulo/SP"),  # the state by name
        ("  florianopolis ", "SC", "Florianópolis/SC"),
        ("GOIÂNIA", "go", "Goiânia/GO"),
        ("Brasilia", "DF", "Brasília/DF"),
        ("belem", "pa", "Belém/PA"),
    ],
)
def test_find_by_city_and_uf(atlas: Atlas, city: str, uf: str, label: str) -> None:
    assert atlas.find(city, uf).label == label


def test_site_irradiation_in_hsp(atlas: Atlas) -> None:
    site = atlas.find("Curitiba", "PR")
    assert site.hsp == pytest.approx(4.4)  # ANNUAL 4400 Wh/m²/day
    assert site.monthly_hsp[0] == pytest.approx(5.590) and len(site.monthly_hsp) == 12


@pytest.mark.parametrize(
    ("city", "uf", "suggestion"),
    [
        ("Sao Paolo", "SP", "São Paulo/SP"),
        ("Florianopolis", "SP", "Florianópolis/SC"),  # right city, wrong state
        ("Palmas", "PR", "Palmas/TO"),
        ("Porto Alegr", "RS", "Porto Alegre/RS"),
        ("Rio de Janiero", "RJ", "Rio de Janeiro/RJ"),
        ("RIO DE JANIERO", "rj", "Rio de Janeiro/RJ"),  # case and accents do not count against a name
        ("GOIANA", "GO", "Goiânia/GO"),
    ],
)
def test_unknown_city_carries_the_closest_names(atlas: Atlas, city: str, uf: str, suggestion: str) -> None:
    with pytest.raises(UnknownPlace) as raised:
        atlas.find(city, uf)
    assert raised.value.suggestions[0] == suggestion
    assert raised.value.query == f"{city}/{uf}"
    assert suggestion in str(raised.value)


def test_nothing_close_gives_no_suggestions(atlas: Atlas) -> None:
    with pytest.raises(UnknownPlace) as raised:
        atlas.find("Xique-Xique", "BA")
    assert raised.value.suggestions == []


@pytest.mark.parametrize(
    ("lat", "lon", "label"),
    [
        (-23.55, -46.63, "São Paulo/SP"),  # on the point
        (-22.9, -47.06, "São Paulo/SP"),  # Campinas
        (-22.0, -43.5, "Rio de Janeiro/RJ"),
        (-26.3, -48.85, "Curitiba/PR"),  # Joinville: ~105 km from Curitiba, ~148 km from Florianópolis
        (-3.1, -60.0, "Manaus/AM"),
    ],
)
def test_nearest_site(atlas: Atlas, lat: float, lon: float, label: str) -> None:
    site, distance = atlas.nearest(lat, lon)
    assert site.label == label
    assert distance == pytest.approx(haversine_km(lat, lon, site.lat, site.lon))


def test_haversine_against_a_known_distance() -> None:
    # São Paulo (−23.55, −46.63) to Rio de Janeiro (−22.91, −43.17): about 361 km
    assert haversine_km(-23.55, -46.63, -22.91, -43.17) == pytest.approx(361, abs=3)
    assert haversine_km(0, 0, 0, 1) == pytest.approx(111.19, abs=0.01)  # one degree on the equator


def test_nearest_refuses_impossible_coordinates(atlas: Atlas) -> None:
    with pytest.raises(ValueError):
        atlas.nearest(-95, 0)


def test_rows_that_do_not_load_are_kept_with_a_reason() -> None:
    data = "\n".join(
        [
            "# comment lines are skipped",
            HEADER,
            f"1;-47,06;-22,90;Campinas;Municipio;SP;5100;{MONTHS}",  # decimal comma also accepted
            f"2;-47.0;-22.0;Nowhere;Municipio;XX;5000;{MONTHS}",
            "3;-47.0;-22.0;Short;Municipio;SP;5000;5000",
            f"4;abc;-22.0;Badnum;Municipio;SP;5000;{MONTHS}",
            f"5;-47.0;-22.0;Zero;Municipio;SP;0;{MONTHS}",
        ]
    ).encode("cp1252")  # a Windows-1252 export, as the Atlas tables often are
    rows = list(parse_site_rows(data))
    assert isinstance(rows[0], Site) and rows[0].lon == pytest.approx(-47.06) and rows[0].uf == "SP"
    reasons = [row.reason for row in rows[1:] if isinstance(row, RejectedSiteRow)]
    assert len(reasons) == 4
    assert "unknown state" in reasons[0] and "columns" in reasons[1]
    assert "numbers" in reasons[2] and "positive" in reasons[3]
    atlas = Atlas.from_csv(data)
    assert [s.name for s in atlas.sites] == ["Campinas"] and len(atlas.rejected) == 4


def test_a_foreign_header_is_rejected() -> None:
    rows = list(parse_site_rows(b"ID,LON,LAT\n1,2,3\n"))
    assert len(rows) == 1 and isinstance(rows[0], RejectedSiteRow) and "header" in rows[0].reason


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("gasto 800 kWh por mês em Recife", ("Recife", "PE")),
        ("sistema em belo horizonte/MG", ("Belo Horizonte", "MG")),
        ("e em São Paulo, SP?", ("São Paulo", "SP")),
        ("quanto gero no telhado?", None),
    ],
)
def test_the_place_a_sentence_names(text: str, place: tuple[str, str] | None) -> None:
    site = capitals_atlas().mentioned_in(text)
    assert (None if site is None else (site.name, site.uf)) == place
