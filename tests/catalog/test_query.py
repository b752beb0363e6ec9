"""Query understanding: what free Portuguese text and explicit params turn into."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.lexical import lexical_vector
from catalog.query import QueryPlan, SearchParams, plan_query, validate_params
from kernel.vectors import PayloadFilter

BRANDS = ["Canadian Solar", "JA Solar", "Growatt", "Deye", "Hoymiles", "BYD", "Intelbras", "Solar Group"]


def plan(q: str, **params: Any) -> QueryPlan:
    return plan_query(SearchParams(q=q, **params), BRANDS)


@pytest.mark.parametrize(
    ("q", "category", "power_w", "phases", "brand"),
    [
        ("inversor 5 kW monofásico", "inverter", 5000, 1, None),
        ("Inversor 5kW bifasico", "inverter", 5000, 2, None),
        ("inversor growatt 5.000 W tri", "inverter", 5000, 3, "Growatt"),
        ("inversor trifásico 10k", "inverter", 10000, 3, None),
        ("painel 550W", "module", 550, None, None),
        ("módulo 550 Wp", "module", 550, None, None),
        ("placa solar", "module", None, None, None),
        ("painel mono 550w", "module", 550, None, None),  # mono = monocrystalline here, not a phase
        ("microinversor", "microinverter", None, None, None),
        ("micro inversor hoymiles", "microinverter", None, None, "Hoymiles"),
        ("inversor híbrido", "hybrid_inverter", None, None, None),
        ("inversor deye 5kw hibrido monofasico", "hybrid_inverter", 5000, 1, "Deye"),
        ("bateria", "battery", None, None, None),
        ("bateria de lítio 5 kWh", "battery", None, None, None),
        ("string box", "string_box", None, None, None),
        ("stringbox 2 entradas", "string_box", None, None, None),
        ("estrutura telhado cerâmico", "structure", None, None, None),
        ("estrutura para 10 painéis de 550W", "structure", None, None, None),  # earliest word wins
        ("cabo solar 6mm", "cable", None, None, None),
        ("cabo para inversor", "cable", None, None, None),
        ("conector mc4", "connector", None, None, None),
        ("kit 5 kWp", "kit", 5000, None, None),
        ("gerador", "kit", None, None, None),
        ("gerador solar 8,2 kWp trifásico", "kit", 8200, 3, None),
        ("controlador de carga", "charge_controller", None, None, None),
        ("painel CANADIAN SOLAR 550w", "module", 550, None, "Canadian Solar"),
        ("placa canadian 550w", "module", 550, None, "Canadian Solar"),  # distinctive first word
        ("ja solar 545w", None, 545, None, "JA Solar"),
        ("painel solar", "module", None, None, None),  # "Solar Group" is not named by "solar" alone
        ("byd", None, None, None, "BYD"),
        ("550W", None, 550, None, None),
        # Units spelled out, and a plant's megawatts.
        ("inversor 8 kilowatts", "inverter", 8000, None, None),
        ("inversor 7,5 quilowatts trifasico", "inverter", 7500, 3, None),
        ("painel 550 watts", "module", 550, None, None),
        ("kit 0,5 MW", "kit", 500_000, None, None),
        # Typos: one edit from a category, brand or phase word (two from eight letters).
        ("inversor growat 5kw", "inverter", 5000, None, "Growatt"),
        ("paimel 550w", "module", 550, None, None),
        ("invesor trifasio deye 10kw", "inverter", 10_000, 3, "Deye"),
        ("microinvesor hoymile", "microinverter", None, None, "Hoymiles"),
        ("inversor hibrida", "hybrid_inverter", None, None, None),
        ("bateira byd", "battery", None, None, "BYD"),
    ],
)
def test_text_understanding(
    q: str, category: str | None, power_w: float | None, phases: int | None, brand: str | None
) -> None:
    result = plan(q)
    assert (result.category, result.target_power_w, result.phases, result.brand) == (
        category,
        power_w,
        phases,
        brand,
    )


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (
            "inversor 5 kW monofásico",
            PayloadFilter(equals={"category": "inverter"}, ranges={"power_w": (3500, 6500)}),
        ),
        (
            "painel canadian solar 550 Wp em estoque",
            PayloadFilter(
                equals={"category": "module", "brand": "Canadian Solar", "in_stock": True},
                ranges={"power_w": (385, 715)},
            ),
        ),
        ("bateria de lítio 5 kWh", PayloadFilter(equals={"category": "battery"})),
        ("estrutura para painel 550W", PayloadFilter(equals={"category": "structure"})),
        ("preço bom", PayloadFilter()),
    ],
)
def test_filter_from_text(q: str, expected: PayloadFilter) -> None:
    result = plan(q).filter
    assert result.equals == expected.equals
    assert result.ranges.keys() == expected.ranges.keys()
    for field, (low, high) in expected.ranges.items():
        assert result.ranges[field] == (pytest.approx(low), pytest.approx(high))


def test_battery_capacity_is_not_a_power() -> None:
    result = plan("bateria de lítio 5 kWh")
    assert (result.capacity_kwh, result.target_power_w) == (5.0, None)


def test_explicit_params_win_over_the_text() -> None:
    result = plan(
        "inversor deye 5 kW em estoque",
        category="hybrid_inverter",
        brand="GROWATT",
        min_power_w=4000,
        max_power_w=8000,
        in_stock=False,
    )
    expected = PayloadFilter(
        equals={"category": "hybrid_inverter", "brand": "Growatt", "in_stock": False},
        ranges={"power_w": (4000, 8000)},
    )
    assert result.filter == expected
    assert result.explicit_filter == expected
    assert (result.category, result.brand, result.target_power_w) == ("hybrid_inverter", "Growatt", 5000)


def test_one_explicit_power_bound_replaces_the_text_range() -> None:
    assert plan("inversor 5 kW", min_power_w=6000).filter.ranges == {"power_w": (6000, None)}


def test_unknown_explicit_brand_is_kept_as_given() -> None:
    assert plan("inversor", brand="Marca Nova").filter.equals["brand"] == "Marca Nova"


def test_explicit_filter_holds_only_the_callers_params() -> None:
    result = plan("inversor growatt 5 kW em estoque", max_power_w=9000)
    assert result.filter != result.explicit_filter
    assert result.explicit_filter == PayloadFilter(ranges={"power_w": (None, 9000)})


def test_power_tolerance_is_configurable() -> None:
    result = plan_query(SearchParams(q="inversor 5 kW"), BRANDS, power_tolerance=0.1)
    assert result.filter.ranges["power_w"] == (pytest.approx(4500), pytest.approx(5500))
    assert result.power_tolerance == 0.1


def test_vectors_and_texts() -> None:
    result = plan("  Painel   CS6W-550MS  ", limit=20)
    assert result.dense_text == "Painel CS6W-550MS"
    assert result.sparse == lexical_vector("painel cs6w-550ms")
    assert result.folded_words == " painel cs6w-550ms "
    assert result.limit == 20


def test_a_query_of_stopwords_has_no_sparse_vector() -> None:
    assert plan("de para").sparse is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (SearchParams(q=""), "q must not be empty"),
        (SearchParams(q="   "), "q must not be empty"),
        (SearchParams(q="x" * 513), "at most 512"),
        (SearchParams(q="painel", limit=0), "limit must be between 1 and 100"),
        (SearchParams(q="painel", limit=101), "limit must be between 1 and 100"),
        (SearchParams(q="painel", category="modules"), "unknown category 'modules'"),
        (SearchParams(q="painel", min_power_w=600, max_power_w=500), "must not exceed"),
        (SearchParams(q="painel", min_power_w=-1), "min_power_w must be a non-negative"),
        (SearchParams(q="painel", max_power_w=float("nan")), "max_power_w must be a non-negative"),
    ],
)
def test_invalid_params_are_rejected(params: SearchParams, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_params(params)


@pytest.mark.parametrize(
    "params",
    [
        SearchParams(q="x" * 512, limit=1),
        SearchParams(q="inversor", limit=100, category="inverter", min_power_w=0, max_power_w=0),
    ],
)
def test_valid_params_pass(params: SearchParams) -> None:
    validate_params(params)


def test_text_power_comes_with_narrower_windows_tried_first() -> None:
    result = plan("painel 550W")
    assert [f.ranges["power_w"] for f in result.narrow_filters] == [
        (pytest.approx(495), pytest.approx(605)),
        (pytest.approx(440), pytest.approx(660)),
    ]
    assert all(f.equals == result.filter.equals for f in result.narrow_filters)


@pytest.mark.parametrize("query", ["painel solar", "inversor 5 kW"])
def test_no_narrow_windows_without_text_power_or_with_explicit_bounds(query: str) -> None:
    assert plan(query, min_power_w=1000).narrow_filters == ()
    assert plan("painel solar").narrow_filters == ()


@pytest.mark.parametrize(
    ("q", "category"),
    [
        ("painel solar", "module"),  # "solar" is one edit from "solax": too common to stand for a brand
        ("estrutura telhado ceramico", "structure"),
        ("modulo fotovoltaico monocristalino", "module"),
        ("cabo flexivel preto", "cable"),
        ("string box 2 entradas", "string_box"),
        ("solis 5kw", None),  # a brand spelled right is that brand, not a neighbour
    ],
)
def test_words_that_are_no_typo_are_left_alone(q: str, category: str | None) -> None:
    brands = [*BRANDS, "Solax", "Solis", "Sungrow"]
    result = plan_query(SearchParams(q=q), brands)
    assert (result.category, result.brand) == (category, "Solis" if q.startswith("solis") else None)


def test_the_query_as_read_is_given_only_when_a_word_was_taken_for_another() -> None:
    assert plan("invesor growat 5kw").read_as == "inversor growatt 5kw"
    assert plan("inversor growatt 5kw").read_as is None


def test_an_inverter_with_a_battery_is_a_hybrid() -> None:
    assert plan("inversor com bateria 5kw").category == "hybrid_inverter"
    assert plan("bateria para inversor").category == "battery"


@pytest.mark.parametrize(
    ("q", "roof"),
    [
        ("estrutura de fixação para telha de barro", "ceramico"),
        ("kit 6kwp telhado zinco", "metalico"),
        ("estrutura aluminio laje", "laje"),
        ("estrutura schletter solo", "solo"),
        ("painel solo 550w", None),  # a module mounts on anything: the roof is a structure's or kit's
    ],
)
def test_the_roof_is_read_from_its_material(q: str, roof: str | None) -> None:
    assert plan(q).roof_type == roof


def test_a_roof_named_by_its_material_also_matches_the_products_word_for_it() -> None:
    assert plan("estrutura telha de barro").sparse == lexical_vector("estrutura telha de barro ceramico")


@pytest.mark.parametrize(
    ("q", "sizes"),
    [
        ("cabo fotovoltaico 6mm rolo 50 metros", [(6, "mm"), (50, "m")]),
        ("bateria 10kwh", [(10_000, "wh")]),
        ("baterias de litio 48v 100ah", [(48, "v"), (4800, "wh")]),  # capacity from amp-hours × volts
        ("controlador mppt 40a 24v", [(40, "a"), (24, "v")]),
        ("string box 2 entradas", [(2, "inputs")]),
        ("stringbox 4e/1s", [(4, "inputs")]),
        ("estrutura solo 12 placas", [(12, "modules")]),
        ("inversor 5kw", []),  # power has its own field
        ("de 3 e 5 entradas", [(5, "inputs")]),  # a lone "e" is "and", not inputs
    ],
)
def test_stated_sizes_besides_power(q: str, sizes: list[tuple[float, str]]) -> None:
    assert [(s.value, s.unit) for s in plan(q).sizes] == sizes


@pytest.mark.parametrize(
    ("q", "kinds"),
    [
        ("controlador mppt 40a", ("mppt",)),
        ("modulo longi 360w mono", ("mono-c-si",)),
        ("placa 280w policristalina", ("multi-c-si",)),
        ("bateria de litio 15kwh", ("lifepo4",)),
        ("inversor mono 5kw", ()),  # a phase next to an inverter
    ],
)
def test_kinds_named(q: str, kinds: tuple[str, ...]) -> None:
    assert plan(q).kinds == kinds


def test_a_kit_is_not_filtered_on_the_brand_its_title_names() -> None:
    """A kit's payload brand is its seller's; "kit canadian" asks for Canadian Solar modules."""
    result = plan("kit canadian 4kwp")
    assert result.brand == "Canadian Solar"
    assert "brand" not in result.filter.equals
    assert all("brand" not in f.equals for f in result.narrow_filters)
    assert plan("kit 4kwp", brand="Canadian Solar").filter.equals["brand"] == "Canadian Solar"


def test_common_words_are_not_read_as_a_brand_one_edit_away() -> None:
    result = plan_query(SearchParams(q="placas solares de 290 watts"), [*BRANDS, "Solaris"])
    assert (result.brand, result.read_as, result.category) == (None, None, "module")
