"""The checks behind the rules of `homologacao.rules`: the system against the law and the grid, and the
documents against the order. Each yields `Outcome`s (ok, failed or unknown) with their evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homologacao.documents import DocumentKind, heading
from homologacao.extraction import Extracted, FieldName, same_model
from homologacao.facts import Facts, catalog_evidence, order_evidence
from homologacao.items import Outcome
from solar.connection import GridConnection
from solar.strings import dc_ac_ratio


def unclassified_documents(facts: Facts) -> Iterable[Outcome]:
    unknown = [document for document in facts.documents if document.kind is None]
    for document in unknown:
        yield Outcome(
            None,
            f"documento não identificado: {document.name}",
            [heading(document)],
        )
    if not unknown:
        yield Outcome(True, f"{len(facts.documents)} documento(s), todos identificados")


# ---------------------------------------------------------------- the system against the law and the grid


def micro_mini_classification(facts: Facts) -> Iterable[Outcome]:
    config, ac_w = facts.config, facts.ac_power_w()
    if ac_w is None:
        yield Outcome(None, "potência CA desconhecida: um inversor não está no catálogo ou não tem potência")
        return
    kw = ac_w / 1000
    evidence = [order_evidence(f"potência CA total dos inversores: {kw:g} kW")]
    if kw <= config.micro_max_kw:
        yield Outcome(True, f"microgeração ({kw:g} kW ≤ {config.micro_max_kw:g} kW)", evidence)
    elif kw <= config.mini_max_kw:
        yield Outcome(
            True, f"minigeração ({kw:g} kW ≤ {config.mini_max_kw:g} kW): exige projeto de mini", evidence
        )
    else:
        yield Outcome(
            False, f"{kw:g} kW acima do limite de minigeração ({config.mini_max_kw:g} kW)", evidence
        )


def equipment_in_catalog(facts: Facts) -> Iterable[Outcome]:
    system = facts.case.system
    lines = [(line, False) for line in system.modules] + [(line, True) for line in system.inverters]
    problems = []
    for line, wants_inverter in lines:
        equipment = facts.equipment(line)
        what = "inversor" if wants_inverter else "módulo"
        if equipment is None:
            problems.append(
                Outcome(
                    None, f"{what} {line.product_id} não está no catálogo", [order_evidence(line.product_id)]
                )
            )
        elif equipment.is_inverter != wants_inverter:
            problems.append(
                Outcome(
                    False,
                    f"{line.product_id} é {equipment.category}, não {what}",
                    [catalog_evidence(equipment, equipment.category)],
                )
            )
    yield from problems or [Outcome(True, f"{len(lines)} produto(s) do pedido no catálogo")]


def inmetro_registration(facts: Facts) -> Iterable[Outcome]:
    config = facts.config
    certificates = facts.values("inmetro_registration", ["inverter_certificate"])
    certified_models = facts.values("inverter_model", ["inverter_certificate"])
    for line, inverter in facts.inverters():
        if inverter is None:
            yield Outcome(
                None, f"inversor {line.product_id} fora do catálogo: registro Inmetro não verificado"
            )
            continue
        name = f"{inverter.brand} {inverter.model}"
        if inverter.power_w is not None and inverter.power_w / 1000 > config.inmetro_required_up_to_kw:
            yield Outcome(
                True, f"{name}: acima de {config.inmetro_required_up_to_kw:g} kW, registro não exigido"
            )
        elif inverter.inmetro_registro:
            yield Outcome(
                True,
                f"{name}: registro Inmetro {inverter.inmetro_registro}",
                [catalog_evidence(inverter, f"registro Inmetro {inverter.inmetro_registro}")],
            )
        elif certified_models and not any(same_model(str(m.value), inverter.model) for m in certified_models):
            other = certified_models[0]
            yield Outcome(
                False,
                f"o certificado Inmetro é de outro modelo ({other.value}), não {name}",
                [other.evidence],
                "Envie o certificado Inmetro do modelo de inversor vendido.",
            )
        elif certificates:
            yield Outcome(
                True, f"{name}: registro Inmetro {certificates[0].value}", [certificates[0].evidence]
            )
        else:
            yield Outcome(
                None, f"{name}: registro Inmetro desconhecido (catálogo e certificado não o informam)"
            )


def voltage_and_phases(facts: Facts) -> Iterable[Outcome]:
    unit, config = facts.case.consumer_unit, facts.config
    grid = GridConnection(kind=unit.connection, phase_voltage_v=unit.phase_voltage_v)
    voltages = grid.available_ac_voltages()
    allowed = config.inverter_phases_by_connection.get(unit.connection, [])
    for line, inverter in facts.inverters():
        if inverter is None or inverter.ac_voltage_v is None or inverter.phases is None:
            yield Outcome(None, f"inversor {line.product_id}: tensão ou fases CA desconhecidas")
            continue
        voltage, phases = inverter.ac_voltage_v, inverter.phases
        name = f"{inverter.brand} {inverter.model} ({voltage:g} V, {phases}F)"
        evidence = [
            catalog_evidence(inverter, f"{voltage:g} V, {phases} fase(s)"),
            order_evidence(f"ligação {unit.connection}, tensões {', '.join(f'{v:g}' for v in voltages)} V"),
        ]
        voltage_ok = any(abs(voltage - v) <= v * config.ac_voltage_tolerance for v in voltages)
        if voltage_ok and phases in allowed:
            yield Outcome(True, f"{name} compatível com ligação {unit.connection}", evidence)
        else:
            yield Outcome(False, f"{name} incompatível com ligação {unit.connection}", evidence)


def dc_ac_ratio_within(facts: Facts) -> Iterable[Outcome]:
    config, ac_w = facts.config, facts.ac_power_w()
    if ac_w is None or ac_w <= 0:
        yield Outcome(None, "relação CC/CA não calculada: potência CA desconhecida")
        return
    ratio = dc_ac_ratio(facts.case.system.kwp * 1000, ac_w)
    evidence = [order_evidence(f"{facts.case.system.kwp:g} kWp / {ac_w / 1000:g} kW CA = {ratio:.2f}")]
    within = config.dc_ac_ratio_min <= ratio <= config.dc_ac_ratio_max
    window = f"{config.dc_ac_ratio_min:g}–{config.dc_ac_ratio_max:g}"
    yield Outcome(
        within, f"relação CC/CA {ratio:.2f} ({'dentro' if within else 'fora'} de {window})", evidence
    )


# ---------------------------------------------------------------- documents against the order


def agreement(
    field_name: FieldName,
    kinds: tuple[DocumentKind, ...],
    expected: Callable[[Facts], object | None],
    matches: Callable[[Extracted, Facts], bool],
    label: str,
) -> Callable[[Facts], Iterable[Outcome]]:
    def check(facts: Facts) -> Iterable[Outcome]:
        found, wanted = facts.values(field_name, kinds), expected(facts)
        if wanted is None:
            yield Outcome(None, f"{label}: o pedido não o informa (produto fora do catálogo)")
            return
        if not found:
            yield Outcome(
                None,
                f"{label}: não encontrado nos documentos",
                fix=f"Informe {label} no formulário e no memorial descritivo.",
            )
            return
        wrong = [item for item in found if not matches(item, facts)]
        if wrong:
            yield Outcome(
                False,
                f"{label}: {wrong[0].value} em {wrong[0].evidence.document}, pedido: {wanted}",
                [item.evidence for item in wrong],
            )
        else:
            yield Outcome(
                True,
                f"{label}: {wanted} em {len(found)} documento(s)",
                [item.evidence for item in found],
            )

    return check


def kwp_matches(item: Extracted, facts: Facts) -> bool:
    kwp = facts.case.system.kwp
    return isinstance(item.value, float | int) and abs(item.value - kwp) <= kwp * facts.config.power_tolerance


def inverter_models(facts: Facts) -> str | None:
    """The order's inverter models as the catalog names them; None when one is not in the catalog."""
    inverters = [inverter for _, inverter in facts.inverters()]
    if any(inverter is None for inverter in inverters):
        return None
    return ", ".join(inverter.model for inverter in inverters if inverter is not None)


def inverter_matches(item: Extracted, facts: Facts) -> bool:
    return any(inv is not None and same_model(str(item.value), inv.model) for _, inv in facts.inverters())


def order_kwp_matches_modules(facts: Facts) -> Iterable[Outcome]:
    """The order's kWp against its own modules (catalog Pmax × quantity)."""
    kwp, modules_w = facts.case.system.kwp, facts.module_power_w()
    if modules_w is None:
        yield Outcome(None, "potência dos módulos desconhecida no catálogo")
        return
    ok = abs(modules_w / 1000 - kwp) <= kwp * facts.config.power_tolerance
    yield Outcome(
        ok,
        f"pedido: {kwp:g} kWp; módulos: {modules_w / 1000:g} kWp",
        [order_evidence(f"{kwp:g} kWp, {facts.case.system.module_count} módulos")],
    )
