"""Small sample homologação packages made by the project: a case JSON and its documents (PDFs written
with fpdf2), one complete package that passes every rule and variants that each break one rule.

A package is built from a `SampleSystem`: the equipment (as the catalog describes it), the consumer unit
and what the documents state; a variant changes one statement (the memorandum's kWp, the certificate's
model, a missing document…) or the equipment. The equipment is the sample catalog's
(`samples.homologacao_cases.equipment`), so against `make run`'s catalog the complete package is approved and
each variant fails its rule. `python -m samples.homologacao_cases --out DIR` writes them all; tests build them
in memory, also around equipment from a catalog of their own.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pypdf
from fpdf import FPDF

from homologacao.case import Case, ConsumerUnit, Equipment, SystemLine, SystemSpec
from homologacao.check import Status
from homologacao.config import HomologacaoConfig
from homologacao.documents import DocumentKind
from samples.homologacao_cases.equipment import sample_equipment

PDF_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # fixed, so the same package gives the same bytes


DEFAULT_UNIT = ConsumerUnit(
    number="3001234567", utility="ENEL CE", connection="mono", phase_voltage_v=220, uf="CE"
)


@dataclass(frozen=True)
class SampleSystem:
    inverter: Equipment
    module: Equipment
    module_count: int
    inverter_count: int = 1
    unit: ConsumerUnit = DEFAULT_UNIT
    # What the documents state (None: the same as the order).
    stated_kwp: float | None = None
    stated_module_count: int | None = None
    stated_inverter_model: str | None = None
    bill_unit: str | None = None
    certificate_model: str | None = None
    inmetro_registration: str = "004321/2022"
    art_number: str = "CE20261234567"
    omit: tuple[DocumentKind, ...] = ()
    credit_units: tuple[str, ...] = ()  # written as the list of receiving units

    @property
    def kwp(self) -> float:
        return round(self.module_count * (self.module.power_w or 0) / 1000, 3)

    @property
    def inverter_name(self) -> str:
        return f"{self.inverter.brand} {self.inverter.model}"


def system_for(
    inverter: Equipment, module: Equipment, dc_ac: float = 1.2, inverter_count: int = 1, **changes: object
) -> SampleSystem:
    """A system whose module count gives about `dc_ac` on `inverter_count` of this inverter."""
    assert inverter.power_w and module.power_w, "equipment without power"
    count = max(1, round(dc_ac * inverter.power_w * inverter_count / module.power_w))
    return replace(SampleSystem(inverter, module, count, inverter_count), **changes)  # type: ignore[arg-type]


def default_system() -> SampleSystem:
    """The complete package's system: the sample catalog's single-phase inverter and module."""
    equipment = sample_equipment()
    return system_for(equipment.inverter, equipment.module)


def _kwp(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def _known(value: float | None) -> str:
    return "n/d" if value is None else f"{value:g}"


def _texts(s: SampleSystem) -> dict[tuple[str, DocumentKind], list[str]]:
    """File name and kind → the text of each page."""
    kwp, count = _kwp(s.stated_kwp or s.kwp), s.stated_module_count or s.module_count
    inverter = s.stated_inverter_model or s.inverter_name
    unit = s.unit
    module = f"{s.module.brand} {s.module.model}"
    texts: dict[tuple[str, DocumentKind], list[str]] = {
        ("formulario_solicitacao.pdf", "request_form"): [
            "Formulário de Solicitação de Orçamento de Conexão - Microgeração Distribuída\n"
            f"Titular: Maria da Silva\nDistribuidora: {unit.utility}\nUnidade consumidora nº: {unit.number}\n"
            f"Potência instalada: {kwp} kWp\nQuantidade de módulos: {count}\nInversor: {inverter}\n"
        ],
        ("documento_identidade.pdf", "id_document"): [
            "Documento de identificação do titular\nNome: Maria da Silva\nCPF: 000.000.000-00 (amostra)\n"
        ],
        ("fatura_energia.pdf", "electricity_bill"): [
            f"Fatura de energia elétrica - {unit.utility}\n"
            f"Unidade consumidora: {s.bill_unit or unit.number}\nReferência: 10/2026\nConsumo: 520 kWh\n"
        ],
        ("art.pdf", "art"): [
            "Anotação de Responsabilidade Técnica (ART)\n"
            f"ART nº {s.art_number}\nObra: sistema fotovoltaico de {kwp} kWp\n"
            f"Unidade consumidora: {unit.number}\nResponsável técnico: Eng. João Souza\n"
        ],
        ("diagrama_unifilar.pdf", "single_line_diagram"): [
            f"Diagrama unifilar\nGerador: {count} módulos {module} ({kwp} kWp)\nInversor: {inverter}\n"
            "Proteções: disjuntor CA, DPS CC e CA, string box\n"
        ],
        ("memorial_descritivo.pdf", "descriptive_memorandum"): [
            f"Memorial descritivo\nUnidade consumidora: {unit.number} ({unit.utility})\n"
            f"Ligação: {unit.connection}\nPotência instalada: {kwp} kWp\n",
            f"Equipamentos\nQuantidade de módulos: {count}\nMódulo: {module}\nInversor: {inverter}\n"
            f"Quantidade de inversores: {s.inverter_count}\n",
        ],
        ("certificado_inmetro.pdf", "inverter_certificate"): [
            "Certificado de Conformidade - Registro Inmetro\n"
            f"Registro Inmetro nº {s.inmetro_registration}\n"
            f"Modelo do inversor: {s.certificate_model or s.inverter_name}\n"
        ],
        ("datasheet_modulo.pdf", "module_datasheet"): [
            f"Datasheet do módulo {module}\nPotência máxima (Pmax): {_known(s.module.power_w)} Wp\n"
        ],
        ("datasheet_inversor.pdf", "inverter_datasheet"): [
            f"Datasheet do inversor {s.inverter_name}\nModelo do inversor: {s.inverter_name}\n"
            f"Potência CA: {_known(s.inverter.power_w)} W\nTensão CA: {_known(s.inverter.ac_voltage_v)} V\n"
        ],
    }
    if s.credit_units:
        lines = "\n".join(f"UC {number}: {100 // len(s.credit_units)} %" for number in s.credit_units)
        texts[("lista_ucs_beneficiarias.pdf", "credit_units_list")] = [
            f"Lista de unidades consumidoras que recebem os créditos\n{lines}\n"
        ]
    return {key: pages for key, pages in texts.items() if key[1] not in s.omit}


def pdf_bytes(pages: list[str]) -> bytes:
    pdf = FPDF()
    pdf.set_creation_date(PDF_DATE)
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def encrypted_pdf(pages: list[str], password: str = "segredo") -> bytes:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf_bytes(pages)))
    writer.encrypt(password, algorithm="RC4-128")  # RC4 needs no crypto library to write or detect
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass(frozen=True)
class Package:
    name: str
    case: Case
    files: dict[str, bytes]
    catalog: dict[str, Equipment]  # what the catalog says about the system's products

    def case_json(self) -> str:
        return self.case.model_dump_json(indent=2, exclude_none=True)


def build_case(name: str, system: SampleSystem, *, inverter_id: str | None = None) -> Case:
    return Case(
        case_id=f"amostra-{name}",
        consumer_unit=system.unit,
        system=SystemSpec(
            modules=[SystemLine(product_id=system.module.product_id, quantity=system.module_count)],
            inverters=[
                SystemLine(
                    product_id=inverter_id or system.inverter.product_id, quantity=system.inverter_count
                )
            ],
            kwp=system.kwp,
        ),
    )


def package_texts(system: SampleSystem) -> dict[str, list[str]]:
    """File name → the text of each page (what the PDFs say)."""
    return {file_name: pages for (file_name, _), pages in _texts(system).items()}


def build_package(name: str, system: SampleSystem, *, inverter_id: str | None = None) -> Package:
    files = {file_name: pdf_bytes(pages) for file_name, pages in package_texts(system).items()}
    catalog = {system.inverter.product_id: system.inverter, system.module.product_id: system.module}
    return Package(name, build_case(name, system, inverter_id=inverter_id), files, catalog)


@dataclass(frozen=True)
class Variant:
    name: str
    breaks: str  # the rule it fails ("" for the complete package)
    status: Status
    change: Callable[[SampleSystem], SampleSystem]
    inverter_id: str | None = None  # an id the catalog does not know


def _with(**changes: object) -> Callable[[SampleSystem], SampleSystem]:
    return lambda system: replace(system, **changes)  # type: ignore[arg-type]


def _scaled(factor: float) -> Callable[[SampleSystem], SampleSystem]:
    return lambda system: replace(system, module_count=round(system.module_count * factor))


def _three_phase(system: SampleSystem) -> SampleSystem:
    """The sample catalog's three-phase inverter on the (single-phase) unit."""
    return system_for(sample_equipment().three_phase_inverter, system.module, unit=system.unit)


def _mini_over_limit(system: SampleSystem) -> SampleSystem:
    """A plant of the sample catalog's largest inverter, one more of them than minigeração allows."""
    largest = sample_equipment().largest_inverter
    assert largest.power_w, "equipment without power"
    count = int(HomologacaoConfig().mini_max_kw * 1000 // largest.power_w) + 1
    unit = system.unit.model_copy(update={"connection": "tri"})
    return system_for(largest, system.module, inverter_count=count, unit=unit)


def _stated_kwp_off(system: SampleSystem) -> SampleSystem:
    return replace(system, stated_kwp=system.kwp * 1.2)


def _two_more_modules(system: SampleSystem) -> SampleSystem:
    return replace(system, stated_module_count=system.module_count + 2)


VARIANTS: tuple[Variant, ...] = (
    Variant("completo", "", "approved", _with()),
    Variant("sem_art", "documento_art", "rejected", _with(omit=("art",))),
    Variant(
        "compartilhado_sem_lista",
        "documento_credit_units_list",
        "rejected",
        lambda s: replace(s, unit=s.unit.model_copy(update={"shared_credits": True})),
    ),
    Variant("acima_da_minigeracao", "enquadramento_micro_mini", "rejected", _mini_over_limit),
    Variant(
        "inmetro_outro_modelo", "inversor_inmetro", "rejected", _with(certificate_model="Marca X ABC-123")
    ),
    Variant("inversor_trifasico_em_mono", "inversor_tensao_fases", "rejected", _three_phase),
    Variant("potencia_divergente", "concordancia_potencia", "rejected", _stated_kwp_off),
    Variant(
        "inversor_divergente",
        "concordancia_inversor",
        "rejected",
        _with(stated_inverter_model="Fronius Primo 8.2-1"),
    ),
    Variant("modulos_divergentes", "concordancia_modulos", "rejected", _two_more_modules),
    Variant("uc_divergente", "concordancia_uc", "rejected", _with(bill_unit="3009999999")),
    Variant("relacao_cc_ca_alta", "relacao_cc_ca", "pending", _scaled(1.5)),
    Variant(
        "inversor_desconhecido", "equipamento_no_catalogo", "pending", _with(), inverter_id="fora-do-catalogo"
    ),
)


def variant_package(variant: Variant, system: SampleSystem | None = None) -> Package:
    """The variant of `system`, by default of the complete package's."""
    return build_package(
        variant.name, variant.change(system or default_system()), inverter_id=variant.inverter_id
    )
