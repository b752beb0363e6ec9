"""The homologação rules as data: each row names the rule, its source (Lei 14.300, REN 1000, Inmetro), its
severity, the fix for the integrator and its check (`homologacao.checks`). The required documents are a
table of their own; the document of credit-receiving units only when credits are shared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from homologacao import checks
from homologacao.documents import LABELS, DocumentKind, heading
from homologacao.facts import Facts
from homologacao.items import Item, Outcome, Rule

REN_1000 = "ANEEL REN 1000/2021 (conexão de micro e minigeração distribuída, alterada pela REN 1.059/2023)"
LEI_14300 = "Lei 14.300/2022, art. 1º (micro até 75 kW; mini até 3 MW, fontes não despacháveis)"
INMETRO = "Inmetro Portaria 140/2022 (inversores até 75 kW)"


@dataclass(frozen=True)
class RequiredDocument:
    kind: DocumentKind
    source: str
    only_when_shared: bool = False


REQUIRED_DOCUMENTS: tuple[RequiredDocument, ...] = (
    RequiredDocument("request_form", REN_1000),
    RequiredDocument("id_document", REN_1000),
    RequiredDocument("electricity_bill", REN_1000),
    RequiredDocument("art", f"{REN_1000}; Lei 6.496/1977 (ART) e Lei 13.639/2018 (TRT)"),
    RequiredDocument("single_line_diagram", REN_1000),
    RequiredDocument("descriptive_memorandum", REN_1000),
    RequiredDocument("inverter_certificate", INMETRO),
    RequiredDocument("module_datasheet", REN_1000),
    RequiredDocument("inverter_datasheet", REN_1000),
    RequiredDocument("credit_units_list", f"{LEI_14300}; {REN_1000}", only_when_shared=True),
)


def _document_rule(required: RequiredDocument) -> Rule:
    label = LABELS[required.kind]

    def check(facts: Facts) -> Iterable[Outcome]:
        if required.only_when_shared and not facts.case.consumer_unit.shared_credits:
            return
        found = facts.documents_of(required.kind)
        if found:
            yield Outcome(True, f"{label}: {', '.join(d.name for d in found)}", [heading(d) for d in found])
        else:
            yield Outcome(False, f"falta: {label}")

    return Rule(f"documento_{required.kind}", required.source, "error", f"Inclua no pacote: {label}.", check)


SYSTEM_KINDS: tuple[DocumentKind, ...] = (
    "request_form",
    "descriptive_memorandum",
    "single_line_diagram",
    "art",
)
INVERTER_KINDS: tuple[DocumentKind, ...] = (*SYSTEM_KINDS, "inverter_datasheet")
UNIT_KINDS: tuple[DocumentKind, ...] = ("request_form", "electricity_bill", "descriptive_memorandum", "art")
AGREE_FIX = "Corrija os documentos para que potência, inversor, módulos e UC sejam os do pedido."

RULES: tuple[Rule, ...] = (
    *(_document_rule(required) for required in REQUIRED_DOCUMENTS),
    Rule(
        "documento_identificado",
        REN_1000,
        "warning",
        "Renomeie o arquivo ou confira se ele pertence ao pacote.",
        checks.unclassified_documents,
    ),
    Rule(
        "equipamento_no_catalogo",
        REN_1000,
        "error",
        "Confira os ids dos produtos do pedido.",
        checks.equipment_in_catalog,
    ),
    Rule(
        "enquadramento_micro_mini",
        LEI_14300,
        "error",
        "Reduza a potência CA ou trate o projeto fora da geração distribuída.",
        checks.micro_mini_classification,
    ),
    Rule(
        "inversor_inmetro",
        INMETRO,
        "error",
        "Inclua o certificado de conformidade Inmetro do inversor.",
        checks.inmetro_registration,
    ),
    Rule(
        "inversor_tensao_fases",
        REN_1000,
        "error",
        "Troque o inversor por um com tensão e fases da ligação da UC, ou altere a ligação.",
        checks.voltage_and_phases,
    ),
    Rule(
        "relacao_cc_ca",
        "DOMAIN.md §3 (faixa usual de projeto, configurável)",
        "warning",
        "Revise a quantidade de módulos ou a potência do inversor.",
        checks.dc_ac_ratio_within,
    ),
    Rule(
        "potencia_pedido",
        REN_1000,
        "error",
        "Corrija a potência do pedido ou a quantidade de módulos.",
        checks.order_kwp_matches_modules,
    ),
    Rule(
        "concordancia_potencia",
        REN_1000,
        "error",
        AGREE_FIX,
        checks.agreement(
            "kwp", SYSTEM_KINDS, lambda f: f"{f.case.system.kwp:g} kWp", checks.kwp_matches, "potência (kWp)"
        ),
    ),
    Rule(
        "concordancia_inversor",
        REN_1000,
        "error",
        AGREE_FIX,
        checks.agreement(
            "inverter_model",
            INVERTER_KINDS,
            checks.inverter_models,
            checks.inverter_matches,
            "modelo do inversor",
        ),
    ),
    Rule(
        "concordancia_modulos",
        REN_1000,
        "error",
        AGREE_FIX,
        checks.agreement(
            "module_count",
            SYSTEM_KINDS,
            lambda f: f.case.system.module_count,
            lambda item, f: item.value == f.case.system.module_count,
            "quantidade de módulos",
        ),
    ),
    Rule(
        "concordancia_uc",
        REN_1000,
        "error",
        AGREE_FIX,
        checks.agreement(
            "consumer_unit",
            UNIT_KINDS,
            lambda f: f.case.consumer_unit.number,
            lambda item, f: item.value == "".join(c for c in f.case.consumer_unit.number if c.isdigit()),
            "número da UC",
        ),
    ),
)


def apply_rules(facts: Facts, rules: Iterable[Rule] = RULES) -> list[Item]:
    return [item for rule in rules for item in rule.apply(facts)]
