"""Submitted files → text pages or a clear problem; classification of a file into a document kind."""

from __future__ import annotations

import pytest

from homologacao.check import READ_RULE, evaluate, read_package
from homologacao.config import HomologacaoConfig
from homologacao.documents import classify
from homologacao.reading import ReadProblem, read_file
from samples.homologacao_cases import encrypted_pdf, pdf_bytes
from tests.homologacao.conftest import CONFIG, text_package

PAGES = ["Memorial descritivo\nPotência instalada: 6,60 kWp", "Quantidade de módulos: 12"]


def test_a_pdf_is_read_page_by_page_and_classified() -> None:
    document = read_file("qualquer-nome.pdf", pdf_bytes(PAGES), CONFIG)
    assert not isinstance(document, ReadProblem)
    assert document.kind == "descriptive_memorandum"
    assert [" ".join(page.split()) for page in document.pages] == [" ".join(p.split()) for p in PAGES]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [("Fatura de energia\nConsumo: 300 kWh", "utf-8"), ("Fatura de energia elétrica", "cp1252")],
)
def test_text_files_in_utf8_or_windows_encoding(data: str, encoding: str) -> None:
    document = read_file("conta.txt", data.encode(encoding), CONFIG)
    assert not isinstance(document, ReadProblem)
    assert document.kind == "electricity_bill"
    assert document.pages == (data,)


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("foto.png", b"\x89PNG\r\n\x1a\n....", "unsupported_type"),
        ("contrato.docx", b"PK\x03\x04....", "unsupported_type"),
        ("binario.txt", b"abc\x00def", "unsupported_type"),
        ("vazio.pdf", b"", "empty_file"),
        ("quebrado.pdf", b"%PDF-1.4\n1 0 obj <<", "broken_pdf"),
        ("truncado.pdf", pdf_bytes(PAGES)[:300], "broken_pdf"),
        ("senha.pdf", encrypted_pdf(PAGES), "encrypted_pdf"),
        ("digitalizado.pdf", pdf_bytes([""]), "no_text"),
    ],
)
def test_bad_files_are_problems_never_exceptions(name: str, data: bytes, kind: str) -> None:
    problem = read_file(name, data, CONFIG)
    assert isinstance(problem, ReadProblem)
    assert (problem.name, problem.kind) == (name, kind)
    assert problem.message


def test_a_file_over_the_size_limit() -> None:
    small = HomologacaoConfig(max_file_bytes=1000)
    problem = read_file("grande.pdf", pdf_bytes(PAGES) + b"\n" * 1000, small)
    assert isinstance(problem, ReadProblem) and problem.kind == "too_large"


def test_a_pdf_under_another_name_is_read_as_pdf() -> None:
    document = read_file("memorial", pdf_bytes(PAGES), CONFIG)
    assert not isinstance(document, ReadProblem) and document.kind == "descriptive_memorandum"


def test_unreadable_files_are_error_items_and_reject_the_package() -> None:
    package = text_package()
    documents, problems = read_package([("senha.pdf", encrypted_pdf(PAGES)), ("x.png", b"\x89PNG")], CONFIG)
    assert documents == [] and [p.kind for p in problems] == ["encrypted_pdf", "unsupported_type"]
    result = evaluate(package.case, package.documents, problems, package.catalog, CONFIG)
    bad = [item for item in result.items if item.rule == READ_RULE]
    assert [(item.ok, item.severity) for item in bad] == [(False, "error")] * 2
    assert bad[0].evidence[0].document == "senha.pdf" and "senha" in bad[0].message
    assert result.status == "rejected"


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("doc1.pdf", "FORMULÁRIO DE SOLICITAÇÃO DE ORÇAMENTO DE CONEXÃO", "request_form"),
        ("doc2.pdf", "Carteira Nacional de Habilitação", "id_document"),
        ("rg_titular.pdf", "Nome: Maria", "id_document"),
        ("doc3.pdf", "Nota fiscal / conta de energia elétrica", "electricity_bill"),
        ("ART-123.pdf", "número 123", "art"),
        ("doc4.pdf", "Termo de Responsabilidade Técnica - TRT", "art"),
        ("doc5.pdf", "Diagrama unifilar do sistema", "single_line_diagram"),
        ("doc6.pdf", "Memorial descritivo\nVer diagrama unifilar anexo", "descriptive_memorandum"),
        ("doc7.pdf", "Certificado de conformidade do produto", "inverter_certificate"),
        ("doc8.pdf", "Ficha técnica do módulo", "module_datasheet"),
        ("doc9.pdf", "Datasheet do microinversor", "inverter_datasheet"),
        ("doc10.pdf", "Lista de unidades consumidoras beneficiárias", "credit_units_list"),
        ("outro.pdf", "Procuração", None),
    ],
)
def test_classification_by_content_then_name(name: str, text: str, kind: str | None) -> None:
    assert classify(name, (text,)) == kind
