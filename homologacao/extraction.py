"""Fields read from the package's documents by patterns, each value with its evidence.

Every match is kept (one per document and page where it occurs), so the rules can see documents that
disagree with each other or with the order. What no pattern finds can be asked of a chat engine
(`homologacao.llm_extraction`), under the same evidence requirement.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from homologacao.documents import Document, Evidence
from kernel.numbers import WRITTEN_NUMBER, parse_decimal
from solar.text import alnum_key

FieldName = Literal[
    "kwp", "inverter_model", "module_count", "art_number", "consumer_unit", "inmetro_registration"
]
Value = float | int | str
SNIPPET_MARGIN = 40  # characters of context each side of a match


class Extracted(BaseModel):
    field: FieldName
    value: Value
    method: Literal["pattern", "llm"]
    evidence: Evidence


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _model(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" .;,:-")


@dataclass(frozen=True)
class FieldSpec:
    name: FieldName
    description: str  # for the chat engine's prompt
    patterns: tuple[str, ...]  # group 1 is the value
    parse: Callable[[str], Value]


_NUMBER = f"({WRITTEN_NUMBER})"
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "kwp",
        "potência de pico do sistema em kWp (número)",
        (_NUMBER + r"\s*kWp\b",),
        parse_decimal,
    ),
    FieldSpec(
        "inverter_model",
        "marca e modelo do inversor",
        (r"(?:modelo do inversor|inversor(?: fotovoltaico)?)\s*[:\-]\s*([^\n]{3,60})",),
        _model,
    ),
    FieldSpec(
        "module_count",
        "quantidade de módulos fotovoltaicos (inteiro)",
        (
            r"(?:quantidade|qtde\.?|n[úu]mero) de (?:m[óo]dulos|pain[ée]is|placas)\s*[:\-]?\s*(\d{1,5})\b",
            r"\b(\d{1,5})\s*(?:x\s*)?(?:m[óo]dulos|pain[ée]is|placas)\b",
        ),
        int,
    ),
    FieldSpec(
        "art_number",
        "número da ART ou TRT",
        (r"\b(?:ART|TRT)\b\s*(?:n[º°o.]*|n[úu]mero)?\s*[:\-]?\s*([A-Z]{0,3}-?\d[\d./-]{4,24}\d)",),
        lambda text: re.sub(r"[^0-9A-Z]", "", text.upper()),
    ),
    FieldSpec(
        "consumer_unit",
        "número da unidade consumidora (UC)",
        (
            r"(?:unidade consumidora|\bUC\b|n[º°o.]* da instala[çc][ãa]o)\s*(?:n[º°o.]*)?\s*[:\-]?\s*"
            r"(\d[\d.\-/ ]{2,20}\d)",
        ),
        _digits,
    ),
    FieldSpec(
        "inmetro_registration",
        "número do registro Inmetro do inversor (formato 000000/2022)",
        (
            r"registro(?: de objeto)?(?: (?:no|n[ao]) )?(?: inmetro)?\s*(?:n[º°o.]*)?\s*[:\-]?\s*"
            r"(\d{3,7}\s*/\s*\d{4})",
        ),
        lambda text: re.sub(r"\s+", "", text),
    ),
)
SPECS: dict[FieldName, FieldSpec] = {spec.name: spec for spec in FIELDS}


def snippet(text: str, start: int, end: int) -> str:
    return re.sub(r"\s+", " ", text[max(0, start - SNIPPET_MARGIN) : end + SNIPPET_MARGIN]).strip()


def _matches(spec: FieldSpec, document: Document) -> Iterable[Extracted]:
    seen: set[tuple[int, Value]] = set()
    for page_number, page in enumerate(document.pages, start=1):
        for pattern in spec.patterns:
            for match in re.finditer(pattern, page, flags=re.IGNORECASE):
                try:
                    value = spec.parse(match.group(1))
                except ValueError:
                    continue
                if value in ("", 0) or (page_number, value) in seen:
                    continue
                seen.add((page_number, value))
                evidence = Evidence(
                    document=document.name, page=page_number, snippet=snippet(page, *match.span())
                )
                yield Extracted(field=spec.name, value=value, method="pattern", evidence=evidence)


def extract_fields(documents: Iterable[Document]) -> list[Extracted]:
    """Every pattern match in every document, in document order."""
    return [found for document in documents for spec in FIELDS for found in _matches(spec, document)]


def missing_fields(extracted: Iterable[Extracted]) -> list[FieldName]:
    found = {item.field for item in extracted}
    return [spec.name for spec in FIELDS if spec.name not in found]


def same_model(written: str, catalog_model: str) -> bool:
    """A model as written in a document names the catalog's when the catalog code appears in it."""
    code = alnum_key(catalog_model)
    return bool(code) and code in alnum_key(written)
