"""Feed parsing against the real layouts in catalog/feeds.yaml: every format, every defect class.

Each defect case puts one damaged row between two good ones: the damaged row must come back as a
RejectedRow with the right reason code and line, and the good rows must load.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pydantic import ValidationError

import catalog
from catalog.feeds import DistributorFeed, FeedsFile, files_for, load_feeds
from catalog.parsing import parse_feed_file
from kernel.schemas import FeedRecord, RejectedRow
from samples.feeds.render import header_order

FEEDS_YAML = Path(catalog.__file__).parent / "feeds.yaml"
FEEDS = {feed.name: feed for feed in load_feeds(FEEDS_YAML)}


def parse(name: str, data: bytes) -> tuple[list[FeedRecord], list[RejectedRow]]:
    items = list(parse_feed_file(FEEDS[name], f"{name}/feed", data))
    records = [item for item in items if isinstance(item, FeedRecord)]
    rejects = [item for item in items if isinstance(item, RejectedRow)]
    assert len(records) + len(rejects) == len(items)
    return records, rejects


def line(feed: DistributorFeed, values: dict[str, str]) -> str:
    """One CSV line in the feed's column order; keys are canonical fields or headers."""
    cells = [
        values.get(header, values.get(feed.columns.get(header, ""), "")) for header in header_order(feed)
    ]
    out = io.StringIO()
    csv.writer(out, delimiter=feed.delimiter, lineterminator="").writerow(cells)
    return out.getvalue()


def csv_file(feed: DistributorFeed, lines: list[str], encoding: str | None = None) -> bytes:
    header = feed.delimiter.join(header_order(feed))
    return "\r\n".join([header, *lines, ""]).encode(encoding or feed.encoding)


def assert_one_reject_between_good_rows(
    records: list[FeedRecord], rejects: list[RejectedRow], skus: list[str], code: str, at_line: int
) -> RejectedRow:
    assert [r.sku for r in records] == skus
    assert len(rejects) == 1, [r.reason for r in rejects]
    reject = rejects[0]
    assert reject.reason.startswith(f"{code}: "), reject.reason
    assert reject.line == at_line
    assert reject.raw.strip()
    return reject


# solar_nordeste: ";"-separated Latin-1 CSV, Portuguese headers, decimal commas, values with units.

NORDESTE = FEEDS["solar_nordeste"]
NORDESTE_MODULE = {
    "sku": "SN000001",
    "title": "Módulo Fotovoltaico Canadian Solar CS6W-550MS 550Wp Monocristalino",
    "category": "Módulo Fotovoltaico",
    "brand": "CANADIAN SOLAR INC.",
    "model": "CS6W 550MS",
    "power_w": "550Wp",
    "voc_v": "49,6 V",
    "temp_coeff_voc_pct_per_c": "-0,27 %/°C",
    "technology": "Monocristalino",
    "price_brl": "R$ 1.234,56",
    "stock": "1.200",
    "lead_time_days": "5 dias",
}
NORDESTE_INVERTER = {
    "sku": "SN000002",
    "title": "Inversor Solar Growatt MIN 5000TL-X 5 kW Monofásico 220V",
    "category": "Inversor",
    "brand": "Shenzhen Growatt New Energy Technology Co - Ltd",
    "model": "MIN 5000TL-X",
    "power_w": "5.000 W",
    "max_dc_voltage_v": "550 V",
    "mppt_count": "2",
    "ac_voltage_v": "220 V",
    "phases": "Monofásico",
    "price_brl": "R$ 4.899,00",
}


def test_latin1_csv_with_decimal_commas_and_units() -> None:
    records, rejects = parse(
        "solar_nordeste",
        csv_file(NORDESTE, [line(NORDESTE, NORDESTE_MODULE), line(NORDESTE, NORDESTE_INVERTER)]),
    )
    assert rejects == []
    module, inverter = records
    assert (module.distributor, module.source_file, module.line) == (
        "solar_nordeste",
        "solar_nordeste/feed",
        2,
    )
    assert (module.category, module.brand, module.model) == ("module", "Canadian Solar", "CS6W-550MS")
    assert module.title == NORDESTE_MODULE["title"]
    assert module.specs == {
        "power_w": 550.0,
        "voc_v": 49.6,
        "temp_coeff_voc_pct_per_c": -0.27,
        "technology": "mono-c-si",
    }
    assert (module.price_brl, module.stock, module.lead_time_days) == (1234.56, 1200, 5)
    assert (inverter.category, inverter.brand, inverter.model) == ("inverter", "Growatt", "MIN-5000TL-X")
    assert inverter.specs == {
        "power_w": 5000.0,
        "max_dc_voltage_v": 550.0,
        "mppt_count": 2,
        "ac_voltage_v": 220.0,
        "phases": 1,
    }
    assert (inverter.stock, inverter.lead_time_days) == (0, 0)


def _nordeste(**changes: str) -> str:
    return line(NORDESTE, {**NORDESTE_MODULE, "sku": "SN000009", **changes})


@pytest.mark.parametrize(
    ("damaged", "code"),
    [
        (_nordeste(price_brl="R$ 1.2O0,00"), "bad_value"),
        (_nordeste(power_w="550 HP"), "unknown_unit"),
        (_nordeste(brand=""), "missing_field"),
        (line(NORDESTE, NORDESTE_MODULE), "duplicate"),
        (_nordeste(title="MÃ³dulo Fotovoltaico Canadian Solar"), "bad_encoding"),
        (_nordeste() + ";sobra", "column_count"),
        (_nordeste(category="Painel"), "unknown_category"),
        (_nordeste(power_w=""), "missing_spec"),
        (_nordeste(technology="Bifacial"), "bad_value"),
        (_nordeste(stock="12,5"), "bad_value"),
        (_nordeste(lead_time_days="2,5 dias"), "bad_value"),
    ],
)
def test_latin1_csv_rejects_each_defect_and_keeps_the_good_rows(damaged: str, code: str) -> None:
    lines = [line(NORDESTE, NORDESTE_MODULE), damaged, line(NORDESTE, NORDESTE_INVERTER)]
    records, rejects = parse("solar_nordeste", csv_file(NORDESTE, lines))
    reject = assert_one_reject_between_good_rows(records, rejects, ["SN000001", "SN000002"], code, at_line=3)
    assert (reject.distributor, reject.source_file) == ("solar_nordeste", "solar_nordeste/feed")
    assert reject.raw == damaged


def test_duplicate_sku_keeps_the_first_row() -> None:
    changed_copy = line(NORDESTE, {**NORDESTE_MODULE, "price_brl": "R$ 999,00"})
    records, rejects = parse(
        "solar_nordeste", csv_file(NORDESTE, [line(NORDESTE, NORDESTE_MODULE), changed_copy])
    )
    assert [r.price_brl for r in records] == [1234.56]
    assert rejects[0].reason == "duplicate: sku 'SN000001' already loaded from line 2"


def test_blank_lines_are_skipped_and_lines_still_count() -> None:
    data = csv_file(NORDESTE, ["", line(NORDESTE, NORDESTE_MODULE), ";;;", line(NORDESTE, NORDESTE_INVERTER)])
    records, rejects = parse("solar_nordeste", data)
    assert ([r.line for r in records], rejects) == ([3, 5], [])


# greenvolt: UTF-8 CSV, English headers, power in kW.

GREENVOLT = FEEDS["greenvolt"]
GREENVOLT_PANEL = {
    "sku": "GV-M-00001",
    "title": "Jinko Solar JKM550M-72HL4 550 W monocrystalline solar panel",
    "category": "Solar Panel",
    "brand": "JinkoSolar",
    "model": "JKM550M-72HL4",
    "power_w": "0.55",
    "efficiency_pct": "21.3",
    "technology": "Monocrystalline",
    "price_brl": "610.50",
    "stock": "40",
    "lead_time_days": "12",
}
GREENVOLT_INVERTER = {
    "sku": "GV-I-00002",
    "title": "SMA STP 15000TL-30 15 kW three-phase grid-tie inverter",
    "category": "String Inverter",
    "brand": "SMA America",
    "model": "STP 15000TL-30",
    "power_w": "15",
    "max_dc_power_w": "22.5",
    "ac_voltage_v": "380",
    "phases": "three-phase",
    "price_brl": "21999.90",
}


def test_utf8_csv_with_powers_in_kw() -> None:
    lines = [line(GREENVOLT, GREENVOLT_PANEL), line(GREENVOLT, GREENVOLT_INVERTER)]
    records, rejects = parse("greenvolt", csv_file(GREENVOLT, lines))
    assert rejects == []
    panel, inverter = records
    assert (panel.brand, panel.model, panel.specs["power_w"]) == ("Jinko Solar", "JKM550M-72HL4", 550.0)
    assert panel.specs["technology"] == "mono-c-si"
    assert (inverter.brand, inverter.price_brl) == ("SMA", 21999.9)
    assert inverter.specs == {
        "power_w": 15000.0,
        "max_dc_power_w": 22500.0,
        "ac_voltage_v": 380.0,
        "phases": 3,
    }


def _greenvolt(**changes: str) -> str:
    return line(GREENVOLT, {**GREENVOLT_PANEL, "sku": "GV-M-00009", **changes})


@pytest.mark.parametrize(
    ("damaged", "code"),
    [
        (_greenvolt(price_brl="1,234.5.6"), "bad_value"),
        (_greenvolt(price_brl="n/a"), "bad_value"),
        (_greenvolt(power_w="0.55 HP"), "unknown_unit"),
        (_greenvolt(brand=""), "missing_field"),
        (line(GREENVOLT, GREENVOLT_PANEL), "duplicate"),
        (_greenvolt().rsplit(",", 1)[0], "column_count"),
        (_greenvolt(technology="Bifacial"), "bad_value"),
        (_greenvolt(category="Solar Panel", power_w=""), "missing_spec"),
    ],
)
def test_utf8_csv_rejects_each_defect_and_keeps_the_good_rows(damaged: str, code: str) -> None:
    lines = [line(GREENVOLT, GREENVOLT_PANEL), damaged, line(GREENVOLT, GREENVOLT_INVERTER)]
    records, rejects = parse("greenvolt", csv_file(GREENVOLT, lines))
    assert_one_reject_between_good_rows(records, rejects, ["GV-M-00001", "GV-I-00002"], code, at_line=3)


def test_utf8_csv_rejects_a_line_with_invalid_bytes() -> None:
    good, inverter = line(GREENVOLT, GREENVOLT_PANEL), line(GREENVOLT, GREENVOLT_INVERTER)
    damaged = _greenvolt(title="Painel promoção")
    data = b"\r\n".join(
        [
            ",".join(header_order(GREENVOLT)).encode(),
            good.encode(),
            damaged.encode("latin-1"),
            inverter.encode(),
        ]
    )
    records, rejects = parse("greenvolt", data)
    reject = assert_one_reject_between_good_rows(
        records, rejects, ["GV-M-00001", "GV-I-00002"], "bad_encoding", 3
    )
    assert "promo\\xe7\\xe3o" in reject.raw  # the undecodable bytes, shown escaped
    RejectedRow.model_validate_json(reject.model_dump_json())  # and storable as JSON text


# atlas_energia: XLSX, numbers as numbers.

ATLAS = FEEDS["atlas_energia"]
ATLAS_MODULE: dict[str, Any] = {
    "sku": 700001,
    "title": "MÓDULO Trina Solar TSM-DE19 550W Mono",
    "category": "MÓDULOS",
    "brand": "Trina Solar Co., Ltd.",
    "model": "tsm-de19 550",
    "power_w": 550,
    "voc_v": 49.6,
    "technology": "Mono",
    "price_brl": 899.9,
    "stock": 35,
    "lead_time_days": 3,
}
ATLAS_STRUCTURE: dict[str, Any] = {
    "sku": 700002,
    "title": "ESTRUTURA Cerâmico Romagnole RMG-CER-4M",
    "category": "ESTRUTURAS",
    "brand": "Romagnole",
    "model": "RMG-CER-4M",
    "roof_type": "Cerâmico",
    "price_brl": 480,
}


def xlsx_file(rows: list[list[Any]], sheet: str = "Produtos", headers: list[str] | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet
    worksheet.append(headers or header_order(ATLAS))
    for row in rows:
        worksheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_row(values: dict[str, Any]) -> list[Any]:
    return [values.get(ATLAS.columns[header]) for header in header_order(ATLAS)]


def test_xlsx_with_native_numbers() -> None:
    records, rejects = parse("atlas_energia", xlsx_file([xlsx_row(ATLAS_MODULE), xlsx_row(ATLAS_STRUCTURE)]))
    assert rejects == []
    module, structure = records
    assert (module.sku, module.brand, module.model, module.line) == (
        "700001",
        "Trina Solar",
        "TSM-DE19-550",
        2,
    )
    assert module.specs == {"power_w": 550.0, "voc_v": 49.6, "technology": "mono-c-si"}
    assert (module.price_brl, module.stock, module.lead_time_days) == (899.9, 35, 3)
    assert (structure.category, structure.specs, structure.price_brl) == (
        "structure",
        {"roof_type": "ceramico"},
        480.0,
    )


def _atlas(**changes: Any) -> list[Any]:
    return xlsx_row({**ATLAS_MODULE, "sku": 700009, **changes})


@pytest.mark.parametrize(
    ("damaged", "code"),
    [
        (_atlas(price_brl="#VALOR!"), "bad_value"),
        (_atlas(price_brl="1,234.56"), "bad_value"),
        (_atlas(power_w="550 cv"), "unknown_unit"),
        (_atlas(brand=None), "missing_field"),
        (xlsx_row(ATLAS_MODULE), "duplicate"),
        (_atlas(title="MÃ“DULO Trina Solar"), "bad_encoding"),  # UTF-8 read as Windows-1252
        (_atlas(title="MÃ\x93DULO Trina Solar"), "bad_encoding"),  # UTF-8 read as Latin-1
        ([*_atlas(), "VERIFICAR"], "column_count"),
        (_atlas(category="DIVERSOS"), "unknown_category"),
    ],
)
def test_xlsx_rejects_each_defect_and_keeps_the_good_rows(damaged: list[Any], code: str) -> None:
    data = xlsx_file([xlsx_row(ATLAS_MODULE), damaged, xlsx_row(ATLAS_STRUCTURE)])
    records, rejects = parse("atlas_energia", data)
    assert_one_reject_between_good_rows(records, rejects, ["700001", "700002"], code, at_line=3)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (xlsx_file([xlsx_row(ATLAS_MODULE)])[:400], "unreadable_file"),  # cut short
        (b"not a zip archive", "unreadable_file"),
        (xlsx_file([xlsx_row(ATLAS_MODULE)], sheet="Plan1"), "unreadable_file"),  # no sheet "Produtos"
        (xlsx_file([], headers=["Código", "Produto"]), "bad_header"),
        (b"", "unreadable_file"),
    ],
)
def test_an_unreadable_xlsx_is_one_reject_for_the_whole_file(data: bytes, code: str) -> None:
    records, rejects = parse("atlas_energia", data)
    assert records == []
    assert [(r.line, r.reason.split(":")[0]) for r in rejects] == [(0, code)]
    assert rejects[0].source_file == "atlas_energia/feed"


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("solar_nordeste", b"", "bad_header"),
        ("solar_nordeste", b"sku;nome\r\nA;B\r\n", "bad_header"),
    ],
)
def test_an_unreadable_csv_is_one_reject_for_the_whole_file(name: str, data: bytes, code: str) -> None:
    records, rejects = parse(name, data)
    assert (records, [(r.line, r.reason.split(":")[0]) for r in rejects]) == ([], [(0, code)])


# brightline: JSON Lines, nested objects, kits with a nested bill of materials.

BRIGHTLINE_PANEL = {
    "id": "bl-module-00001",
    "title": "LONGi LR5-72HPH-545M - 545W PV module",
    "type": "solar_panel",
    "manufacturer": "LONGi Solar",
    "part_number": "LR5-72HPH-545M",
    "specs": {"pmax_w": 545, "voc_v": 49.65, "cell_technology": "mono"},
    "pricing": {"price_brl": 598.0},
    "inventory": {"available": 120, "lead_days": 2},
}
BRIGHTLINE_KIT = {
    "id": "bl-kit-00002",
    "title": "Solar kit 4.36 kWp - LONGi modules + Growatt inverter (ceramic tile roof)",
    "type": "solar_kit",
    "manufacturer": "GeraSol Ltda.",
    "part_number": "GSL-4.36K-LR572HPH54-MIN4200TLX-CER",
    "specs": {"dc_power_kwp": 4.36, "grid": {"voltage_v": 220, "phases": 1}, "roof": "ceramic_tile"},
    "pricing": {"price_brl": 11890.0},
    "inventory": {"available": 4, "lead_days": 10},
    "bill_of_materials": [
        {"type": "solar_panel", "manufacturer": "LONGi", "part_number": "LR5-72HPH-545M", "qty": 8},
        {"type": "string_inverter", "manufacturer": "GROWATT", "part_number": "MIN 4200TL-X", "qty": 1},
        {"type": "mounting", "manufacturer": "Romagnole", "part_number": "RMG-CER-4M-R-AL", "qty": 2},
    ],
}


def jsonl(*documents: Any) -> bytes:
    return "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents).encode("utf-8")


def test_jsonl_with_nested_specs_and_a_kit() -> None:
    records, rejects = parse("brightline", jsonl(BRIGHTLINE_PANEL, BRIGHTLINE_KIT))
    assert rejects == []
    panel, kit = records
    assert (panel.brand, panel.model, panel.specs["power_w"], panel.line) == (
        "LONGi",
        "LR5-72HPH-545M",
        545.0,
        1,
    )
    assert (kit.category, kit.brand, kit.line) == ("kit", "GeraSol", 2)
    assert {k: v for k, v in kit.specs.items() if k != "components"} == {
        "power_w": 4360.0,
        "ac_voltage_v": 220.0,
        "phases": 1,
        "roof_type": "ceramico",
    }
    assert kit.specs["components"] == [
        {"category": "module", "brand": "LONGi", "model": "LR5-72HPH-545M", "quantity": 8},
        {"category": "inverter", "brand": "Growatt", "model": "MIN-4200TL-X", "quantity": 1},
        {"category": "structure", "brand": "Romagnole", "model": "RMG-CER-4M-R-AL", "quantity": 2},
    ]


def _panel(**changes: Any) -> dict[str, Any]:
    return {**BRIGHTLINE_PANEL, "id": "bl-module-00009", **changes}


def _kit(**changes: Any) -> dict[str, Any]:
    return {**BRIGHTLINE_KIT, "id": "bl-kit-00009", **changes}


@pytest.mark.parametrize(
    ("damaged", "code"),
    [
        (jsonl(_panel())[:-9] + b"\n", "bad_json"),
        (b'["bl-module-00009", "LONGi"]\n', "bad_json"),
        (
            json.dumps(_panel(title="Módulo promoção"), ensure_ascii=False).encode("latin-1") + b"\n",
            "bad_encoding",
        ),
        (jsonl(_panel(pricing={"price_brl": "1.234,56"})), "bad_value"),
        (jsonl(_panel(specs={"pmax_w": "545 HP"})), "unknown_unit"),
        (jsonl(_panel(manufacturer=None)), "missing_field"),
        (jsonl(BRIGHTLINE_PANEL), "duplicate"),
        (jsonl(_kit(bill_of_materials=[])), "kit_structure"),
        (jsonl(_kit(bill_of_materials="8x LONGi")), "kit_structure"),
        (
            jsonl(_kit(bill_of_materials=[{"type": "solar_panel", "manufacturer": "LONGi", "qty": 8}])),
            "missing_field",
        ),
        (jsonl(_kit(bill_of_materials=[{**BRIGHTLINE_KIT["bill_of_materials"][0], "qty": 0}])), "bad_value"),
        (
            jsonl(_kit(bill_of_materials=[{**BRIGHTLINE_KIT["bill_of_materials"][0], "type": "x"}])),
            "unknown_category",
        ),
    ],
)
def test_jsonl_rejects_each_defect_and_keeps_the_good_rows(damaged: bytes, code: str) -> None:
    records, rejects = parse("brightline", jsonl(BRIGHTLINE_PANEL) + damaged + jsonl(BRIGHTLINE_KIT))
    assert_one_reject_between_good_rows(
        records, rejects, ["bl-module-00001", "bl-kit-00002"], code, at_line=2
    )


# kit_center: a kit line followed by its component lines.

KITS = FEEDS["kit_center"]
KIT_LINE = {
    "Tipo": "KIT",
    "sku": "KC-GF-00001",
    "title": "Gerador Fotovoltaico 4,36 kWp LONGi + Growatt Telhado Cerâmico Monofásico 220V",
    "brand": "GeraSol",
    "model": "GSL-4.36K-LR572HPH54-MIN4200TLX-CER",
    "power_w": "4,36",
    "ac_voltage_v": "220",
    "phases": "Monofásico",
    "roof_type": "Cerâmico",
    "price_brl": "R$ 11.890,00",
}


def component(category: str, brand: str, model: str, quantity: str) -> dict[str, str]:
    return {"Tipo": "ITEM", "Categoria": category, "Fabricante": brand, "Modelo": model, "Qtd": quantity}


COMPONENTS = [
    component("Módulo", "LONGi Solar", "LR5-72HPH-545M", "8"),
    component("Inversor", "Growatt", "MIN 4200TL-X", "1"),
]


def kit_lines(kit: dict[str, str], components: list[dict[str, str]] = COMPONENTS) -> list[str]:
    return [line(KITS, kit), *(line(KITS, c) for c in components)]


def _kit_center(sku: str, **changes: str) -> dict[str, str]:
    return {**KIT_LINE, "sku": sku, **changes}


def test_kit_lines_with_component_lines() -> None:
    lines = kit_lines(KIT_LINE) + kit_lines(_kit_center("KC-GF-00002"), COMPONENTS[:1])
    records, rejects = parse("kit_center", csv_file(KITS, lines))
    assert rejects == []
    first, second = records
    assert (first.category, first.brand, first.line, first.price_brl) == ("kit", "GeraSol", 2, 11890.0)
    assert (first.specs["power_w"], first.specs["phases"], first.specs["roof_type"]) == (
        4360.0,
        1,
        "ceramico",
    )
    assert first.specs["components"] == [
        {"category": "module", "brand": "LONGi", "model": "LR5-72HPH-545M", "quantity": 8},
        {"category": "inverter", "brand": "Growatt", "model": "MIN-4200TL-X", "quantity": 1},
    ]
    assert (second.line, len(second.specs["components"])) == (5, 1)


@pytest.mark.parametrize(
    ("damaged", "code"),
    [
        (kit_lines(_kit_center("KC-GF-00009"), []), "kit_structure"),
        (kit_lines(_kit_center("KC-GF-00009"), [component("Módulo", "LONGi", "LR5", "dez")]), "bad_value"),
        (kit_lines(_kit_center("KC-GF-00009"), [component("Módulo", "", "LR5", "8")]), "missing_field"),
        (kit_lines(_kit_center("KC-GF-00009"), [component("Bomba", "Xylem", "B1", "1")]), "unknown_category"),
        (kit_lines(_kit_center("KC-GF-00009", power_w="4,36 kWh")), "unknown_unit"),
        (kit_lines(_kit_center("KC-GF-00009", brand="")), "missing_field"),
        (kit_lines(_kit_center("KC-GF-00009", Tipo="KTI")), "bad_value"),
        (kit_lines(KIT_LINE), "duplicate"),
        (
            [*kit_lines(_kit_center("KC-GF-00009"))[:2], line(KITS, COMPONENTS[1]).rsplit(";", 1)[0]],
            "column_count",
        ),
    ],
)
def test_kit_lines_reject_the_whole_kit_for_any_defect(damaged: list[str], code: str) -> None:
    lines = kit_lines(KIT_LINE) + damaged + kit_lines(_kit_center("KC-GF-00002"))
    records, rejects = parse("kit_center", csv_file(KITS, lines))
    reject = assert_one_reject_between_good_rows(records, rejects, ["KC-GF-00001", "KC-GF-00002"], code, 5)
    assert reject.raw.splitlines() == damaged  # the kit line and all its component lines


def test_component_lines_before_any_kit_line_are_rejected() -> None:
    lines = [line(KITS, COMPONENTS[0]), *kit_lines(KIT_LINE)]
    records, rejects = parse("kit_center", csv_file(KITS, lines))
    assert [r.sku for r in records] == ["KC-GF-00001"]
    assert [(r.line, r.reason) for r in rejects] == [
        (2, "kit_structure: component line without a kit line before it")
    ]


def test_kit_line_broken_encoding_rejects_the_kit_with_its_components() -> None:
    good = csv_file(KITS, kit_lines(KIT_LINE))
    broken = "\r\n".join(kit_lines(_kit_center("KC-GF-00009", title="Gerador promoção"))).encode("latin-1")
    records, rejects = parse("kit_center", good + broken + b"\r\n")
    assert [r.sku for r in records] == ["KC-GF-00001"]
    assert [(r.line, r.reason.split(":")[0], len(r.raw.splitlines())) for r in rejects] == [
        (5, "bad_encoding", 3)
    ]


# The layouts file and file matching.


def test_feeds_yaml_has_the_five_distributors_and_their_formats() -> None:
    formats = {name: (feed.format, feed.encoding) for name, feed in FEEDS.items()}
    assert formats == {
        "solar_nordeste": ("csv", "latin-1"),
        "greenvolt": ("csv", "utf-8"),
        "atlas_energia": ("xlsx", "utf-8"),
        "brightline": ("jsonl", "utf-8"),
        "kit_center": ("csv", "utf-8-sig"),
    }
    assert all(feed.brand_aliases["hanwha q cells"] == "Q CELLS" for feed in FEEDS.values())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"columns": {"sku": "sku", "marca": "brand", "modelo": "model", "tipo": "categoria"}},
            "unknown canonical",
        ),
        ({"columns": {"sku": "sku", "marca": "brand", "tipo": "category"}}, "no column maps to"),
        ({"units": {"sku": "kW"}}, "does not fit"),
        ({"units": {"potencia": "HP"}}, "does not fit"),
        ({"encoding": "klingon-8"}, "unknown encoding"),
        ({"categories": {"Painel": "panel"}}, "categories"),
        ({"value_maps": {"power_w": {"alto": "high"}}}, "value_maps"),
        ({"kits": {"layout": "header_then_components", "component_columns": {}}}, "row_type_column"),
    ],
)
def test_a_layout_that_cannot_work_is_refused_when_loaded(change: dict[str, Any], message: str) -> None:
    layout = {
        "name": "sexto",
        "files": ["sexto/*.csv"],
        "format": "csv",
        "columns": {
            "sku": "sku",
            "marca": "brand",
            "modelo": "model",
            "tipo": "category",
            "potencia": "power_w",
        },
        "categories": {"Painel": "module"},
        **change,
    }
    with pytest.raises(ValidationError, match=message):
        FeedsFile.model_validate({"feeds": [layout]})


def test_a_sixth_distributor_is_a_config_entry(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "brands: {Canadian Solar: [CSI Solar]}\n"
        "feeds:\n"
        "  - name: sexto\n"
        "    files: ['sexto/**/*.txt']\n"
        "    format: csv\n"
        "    delimiter: '|'\n"
        "    decimal: comma\n"
        "    columns: {ref: sku, fab: brand, mod: model, tipo: category, wp: power_w, valor: price_brl}\n"
        "    categories: {PAINEL: module}\n",
        encoding="utf-8",
    )
    (feed,) = load_feeds(config)
    data = b"REF|FAB|MOD|TIPO|WP|VALOR\nX1|csi solar|cs6w 550ms|painel|550|1.100,00\n"
    (record,) = parse_feed_file(feed, "sexto/a/lista.txt", data)
    assert isinstance(record, FeedRecord)
    assert (record.brand, record.model, record.specs, record.price_brl) == (
        "Canadian Solar",
        "CS6W-550MS",
        {"power_w": 550.0},
        1100.0,
    )
    assert files_for(
        feed, ["sexto/lista.txt", "sexto/a/b/lista.txt", "sexto/lista.csv", "outro/lista.txt"]
    ) == [
        "sexto/a/b/lista.txt",
        "sexto/lista.txt",
    ]


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("greenvolt/*.csv", "greenvolt/panels.csv", True),
        ("greenvolt/*.csv", "greenvolt/2024/panels.csv", False),
        ("greenvolt/**/*.csv", "greenvolt/2024/panels.csv", True),
        ("greenvolt/*.csv", "other/greenvolt/panels.csv", False),
        ("greenvolt/*.csv", "greenvolt/panels.csv.bak", False),
        ("brightline/feed-?.jsonl", "brightline/feed-1.jsonl", True),
        ("a+b/[x].csv", "a+b/[x].csv", True),
    ],
)
def test_files_for_matches_whole_relative_paths(glob: str, path: str, matches: bool) -> None:
    feed = FEEDS["greenvolt"].model_copy(update={"files": [glob]})
    assert files_for(feed, [path]) == ([path] if matches else [])
