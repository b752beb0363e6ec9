"""The documents of a package: their kinds, the text read from them, and which kind a file is.

A file's kind comes from its first page's heading first (what the document says it is), then from its
name, then from the whole text; a file none of them recognises stays unclassified (a warning, since a
required document may hide in it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from kernel.text import fold

DocumentKind = Literal[
    "request_form",
    "id_document",
    "electricity_bill",
    "art",
    "single_line_diagram",
    "descriptive_memorandum",
    "inverter_certificate",
    "module_datasheet",
    "inverter_datasheet",
    "credit_units_list",
]
HEAD_CHARS = 300  # the title area of the first page


@dataclass(frozen=True)
class KindPatterns:
    kind: DocumentKind
    label: str  # how the integrator calls it
    content: str  # regex over the folded text (no accents, lower case)
    name: str  # regex over the folded file name


KINDS: tuple[KindPatterns, ...] = (
    KindPatterns(
        "request_form",
        "formulário de solicitação de orçamento de conexão",
        r"formulario de solicitacao|solicitacao de (orcamento de )?(acesso|conexao)",
        r"formulario|solicitacao",
    ),
    KindPatterns(
        "id_document",
        "documento de identificação do titular",
        r"documento de identi|carteira (nacional )?de (identidade|habilitacao)|registro geral",
        r"\b(rg|cnh|identidade|identificacao)\b",
    ),
    KindPatterns(
        "electricity_bill",
        "fatura de energia recente",
        r"(fatura|conta|nota fiscal)( de)? energia",
        r"fatura|conta[ _-]?(de[ _-]?)?(luz|energia)",
    ),
    KindPatterns(
        "art",
        "ART/TRT do responsável técnico",
        r"anotacao de responsabilidade tecnica|termo de responsabilidade tecnica",
        r"\b(art|trt)\b",
    ),
    KindPatterns("single_line_diagram", "diagrama unifilar", r"diagrama unifilar", r"unifilar"),
    KindPatterns(
        "descriptive_memorandum", "memorial descritivo", r"memorial (tecnico )?descritivo", r"memorial"
    ),
    KindPatterns(
        "inverter_certificate",
        "certificado/registro Inmetro do inversor",
        r"certificado de conformidade|registro (de objeto )?(no )?inmetro",
        r"inmetro|certificado",
    ),
    KindPatterns(
        "module_datasheet",
        "datasheet do módulo",
        r"(datasheet|folha de dados|ficha tecnica) (do )?(modulo|painel)",
        r"(datasheet|ficha).*(modulo|painel)|(modulo|painel).*(datasheet|ficha)",
    ),
    KindPatterns(
        "inverter_datasheet",
        "datasheet do inversor",
        r"(datasheet|folha de dados|ficha tecnica) (do )?(micro)?inversor",
        r"(datasheet|ficha).*inversor|inversor.*(datasheet|ficha)",
    ),
    KindPatterns(
        "credit_units_list",
        "lista de unidades consumidoras que recebem os créditos",
        r"(lista|relacao) de unidades consumidoras|rateio dos creditos|unidades beneficiarias",
        r"rateio|beneficiarias|lista[ _-]?(de[ _-]?)?ucs?\b",
    ),
)
LABELS: dict[DocumentKind, str] = {row.kind: row.label for row in KINDS}


class Evidence(BaseModel):
    """Where a value or a finding comes from: a document and page with the text quoted, or the order
    or the catalog (`document` is then `pedido` or `catálogo`, `page` None)."""

    document: str = Field(description="File name, or `pedido` / `catálogo`.")
    page: int | None = Field(default=None, description="1-based page of the document.")
    snippet: str = Field(description="The text that shows it.")


@dataclass(frozen=True)
class Document:
    """A readable file of the package: its text page by page, and its kind (None: not recognised)."""

    name: str
    pages: tuple[str, ...]
    kind: DocumentKind | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.pages)


def _earliest(patterns: list[tuple[DocumentKind, str]], text: str) -> DocumentKind | None:
    """The kind named first in `text`: a memorandum's title comes before the diagram it mentions."""
    found = [(match.start(), kind) for kind, pattern in patterns if (match := re.search(pattern, text))]
    return min(found)[1] if found else None


def classify(name: str, pages: tuple[str, ...]) -> DocumentKind | None:
    text = fold("\n".join(pages))
    stem = fold(re.sub(r"[_\-.]+", " ", name.rsplit(".", 1)[0]))
    by_content = [(row.kind, row.content) for row in KINDS]
    return (
        _earliest(by_content, text[:HEAD_CHARS])
        or _earliest([(row.kind, row.name) for row in KINDS], stem)
        or _earliest(by_content, text)
    )


def heading(document: Document) -> Evidence:
    """The start of the first page: what shows which document it is."""
    first = document.pages[0] if document.pages else ""
    return Evidence(document=document.name, page=1, snippet=" ".join(first.split())[:120])


def classified(name: str, pages: tuple[str, ...]) -> Document:
    return Document(name, pages, classify(name, pages))
