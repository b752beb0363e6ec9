"""Each rule on a package that passes it and on packages that fail it (pure: no I/O)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from homologacao.check import decide_status
from homologacao.documents import classified
from homologacao.items import Item
from homologacao.rules import REQUIRED_DOCUMENTS, RULES
from samples.homologacao_cases import DEFAULT_UNIT, VARIANTS, Variant, default_system, system_for
from tests.homologacao.conftest import CONFIG, failed, text_package

SYSTEM = default_system()
COMPLETE = text_package()


def test_the_complete_package_passes_every_rule() -> None:
    result = COMPLETE.check()
    assert failed(result) == {}
    assert result.status == "approved"
    ran = {item.rule for item in result.items}
    # every rule ran except the list of credit-receiving units (credits are not shared here)
    assert ran == {rule.name for rule in RULES} - {"documento_credit_units_list"}
    assert all(item.source and item.fix is None for item in result.items)


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.breaks], ids=lambda v: v.name)
def test_each_sample_variant_fails_its_rule(variant: Variant) -> None:
    result = text_package(variant.change(SYSTEM), inverter_id=variant.inverter_id).check()
    broken = [item for item in result.items if item.rule == variant.breaks and not item.ok]
    assert broken, failed(result)
    assert all(item.fix and item.message for item in broken)
    assert result.status == variant.status


@pytest.mark.parametrize("kind", [r.kind for r in REQUIRED_DOCUMENTS if not r.only_when_shared])
def test_each_missing_document_rejects(kind: str) -> None:
    result = text_package(replace(SYSTEM, omit=(kind,))).check()
    assert failed(result).get(f"documento_{kind}") == "error"
    assert result.status == "rejected"


def test_shared_credits_need_the_list_of_receiving_units() -> None:
    shared = replace(SYSTEM, unit=DEFAULT_UNIT.model_copy(update={"shared_credits": True}))
    assert failed(text_package(shared).check()) == {"documento_credit_units_list": "error"}
    with_list = replace(shared, credit_units=("3001234567", "3009876543"))
    assert failed(text_package(with_list).check()) == {}


@pytest.mark.parametrize(
    ("ac_power_w", "ok", "words"),
    [
        (75_000.0, True, "microgeração"),
        (75_001.0, True, "minigeração"),
        (3_000_000.0, True, "minigeração"),
        (3_000_001.0, False, "acima do limite"),
    ],
)
def test_micro_mini_classification_by_ac_power(ac_power_w: float, ok: bool, words: str) -> None:
    inverter = SYSTEM.inverter.model_copy(update={"power_w": ac_power_w})
    result = text_package(replace(SYSTEM, inverter=inverter)).check()
    [item] = [item for item in result.items if item.rule == "enquadramento_micro_mini"]
    assert item.ok is ok and words in item.message


@pytest.mark.parametrize(
    ("connection", "phase_v", "inverter_v", "phases", "ok"),
    [
        ("mono", 220, 220, 1, True),
        ("mono", 127, 220, 1, False),  # 127 V phase-neutral: no 220 V on a single phase
        ("bi", 127, 220, 1, True),  # 220 V between two 127 V phases
        ("bi", 127, 220, 2, True),
        ("tri", 220, 380, 3, True),
        ("tri", 127, 380, 3, False),
        ("mono", 220, 380, 3, False),
        ("mono", None, 127, 1, True),  # voltage unknown: any low-voltage system
    ],
)
def test_inverter_voltage_and_phases_against_the_connection(
    connection: str, phase_v: float | None, inverter_v: float, phases: int, ok: bool
) -> None:
    unit = DEFAULT_UNIT.model_copy(update={"connection": connection, "phase_voltage_v": phase_v})
    inverter = SYSTEM.inverter.model_copy(update={"ac_voltage_v": inverter_v, "phases": phases})
    result = text_package(replace(SYSTEM, unit=unit, inverter=inverter)).check()
    [item] = [item for item in result.items if item.rule == "inversor_tensao_fases"]
    assert item.ok is ok
    assert item.severity == "error"


def test_inverter_without_ac_specs_is_a_warning() -> None:
    inverter = SYSTEM.inverter.model_copy(update={"ac_voltage_v": None})
    result = text_package(replace(SYSTEM, inverter=inverter)).check()
    assert failed(result) == {"inversor_tensao_fases": "warning"}
    assert result.status == "pending"


@pytest.mark.parametrize(("factor", "ok"), [(1.0, True), (0.75, False), (1.5, False)])
def test_dc_ac_ratio_within_the_configured_range(factor: float, ok: bool) -> None:
    system = replace(SYSTEM, module_count=round(SYSTEM.module_count * factor))
    [item] = [i for i in text_package(system).check().items if i.rule == "relacao_cc_ca"]
    assert item.ok is ok
    assert item.severity == "warning"


def test_dc_ac_range_comes_from_the_config() -> None:
    wide = CONFIG.model_copy(update={"dc_ac_ratio_max": 3.0})
    system = replace(SYSTEM, module_count=SYSTEM.module_count * 2)
    assert failed(text_package(system).check(wide)) == {}


def test_inmetro_registration_from_the_catalog_without_a_certificate_number() -> None:
    listed = SYSTEM.inverter.model_copy(update={"inmetro_registro": "009999/2023"})
    no_number = replace(SYSTEM, inverter=listed, inmetro_registration="em análise")
    [item] = [i for i in text_package(no_number).check().items if i.rule == "inversor_inmetro"]
    assert item.ok and "009999/2023" in item.message
    assert item.evidence[0].document == "catálogo"


def test_inmetro_unknown_is_a_warning_not_a_pass() -> None:
    result = text_package(replace(SYSTEM, inmetro_registration="em análise")).check()
    assert failed(result) == {"inversor_inmetro": "warning"}
    assert result.status == "pending"


def test_inmetro_not_required_above_75_kw() -> None:
    big = SYSTEM.inverter.model_copy(update={"power_w": 100_000.0, "ac_voltage_v": 380, "phases": 3})
    unit = DEFAULT_UNIT.model_copy(update={"connection": "tri"})
    system = system_for(big, SYSTEM.module, unit=unit, omit=("inverter_certificate",))
    items = {i.rule: i for i in text_package(system).check().items}
    assert items["inversor_inmetro"].ok and "não exigido" in items["inversor_inmetro"].message


def test_agreement_evidence_points_at_the_document_and_page() -> None:
    stated = SYSTEM.module_count + 1
    result = text_package(replace(SYSTEM, stated_module_count=stated)).check()
    [item] = [i for i in result.items if i.rule == "concordancia_modulos"]
    assert not item.ok
    pages = {(e.document, e.page) for e in item.evidence}
    assert ("memorial_descritivo.pdf", 2) in pages
    assert all(str(stated) in e.snippet for e in item.evidence)


def test_order_kwp_must_match_its_modules() -> None:
    package = text_package()
    wrong = package.case.model_copy(update={"system": package.case.system.model_copy(update={"kwp": 8.0})})
    result = replace(package, case=wrong).check()
    assert failed(result)["potencia_pedido"] == "error"


def test_an_unknown_inverter_gives_warnings_only() -> None:
    result = text_package(inverter_id="nao-existe").check()
    assert set(failed(result).values()) == {"warning"}
    assert "equipamento_no_catalogo" in failed(result)
    assert result.status == "pending"


def test_a_module_id_that_is_an_inverter_is_an_error() -> None:
    package = text_package()
    inverter_as_module = package.case.system.modules[0].model_copy(
        update={"product_id": SYSTEM.inverter.product_id}
    )
    system = package.case.system.model_copy(update={"modules": [inverter_as_module]})
    result = replace(package, case=package.case.model_copy(update={"system": system})).check()
    assert failed(result)["equipamento_no_catalogo"] == "error"


def _item(ok: bool, severity: str) -> Item:
    return Item(rule="r", ok=ok, severity=severity, message="m", source="s")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("items", "status"),
    [
        ([], "approved"),
        ([_item(True, "error"), _item(True, "warning")], "approved"),
        ([_item(True, "error"), _item(False, "warning")], "pending"),
        ([_item(False, "error"), _item(False, "warning")], "rejected"),
        ([_item(False, "error")], "rejected"),
    ],
)
def test_status_decision(items: list[Item], status: str) -> None:
    assert decide_status(items) == status


def test_a_document_of_no_known_kind_is_a_warning() -> None:
    package = text_package()
    extra = classified("procuracao.pdf", ("Procuração\nOutorgante: Maria da Silva",))
    result = replace(package, documents=[*package.documents, extra]).check()
    assert failed(result) == {"documento_identificado": "warning"}
    [item] = [i for i in result.items if i.rule == "documento_identificado"]
    assert item.evidence[0].document == "procuracao.pdf" and "Procuração" in item.evidence[0].snippet
    assert result.status == "pending"
