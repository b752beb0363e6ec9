"""Fields the patterns missed, asked of a chat engine (the Hélio chain), kept only when grounded.

The engine gets the documents' text and the missing fields and must answer JSON: per field the value,
the document, the page and a snippet copied from it. A value is kept only when its snippet occurs in
that page (whitespace and case aside) and the value occurs in its snippet: an invented value, or one
from a document that does not say it, is rejected with the reason. An engine that fails or answers
something else than JSON leaves the fields missing; it never fails the check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from homologacao.documents import Document, Evidence
from homologacao.extraction import SPECS, Extracted, FieldName
from kernel.chat import ChatMessage, ChatRequest, ChatResult
from kernel.text import fold
from solar.text import alnum_key

MAX_DOCUMENT_CHARS = 3000  # per document: a small local model has a small context
SKIPPED_KINDS = ("id_document",)  # personal data and no field to find there
SYSTEM_PROMPT = (
    "Você extrai dados de documentos de homologação de sistemas fotovoltaicos. Responda somente com um "
    'objeto JSON. Para cada campo pedido: {"valor": ..., "documento": nome do arquivo, "pagina": número, '
    '"trecho": texto copiado literalmente do documento que mostra o valor}, ou null quando nenhum '
    "documento o informa. Nunca invente valores."
)


class ChatLike(Protocol):
    async def generate(self, request: ChatRequest) -> ChatResult: ...


@dataclass
class LlmExtraction:
    found: list[Extracted] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # why each proposed value was not kept
    engine: str | None = None  # who answered
    error: str | None = None  # why nothing came back


def build_request(documents: Sequence[Document], fields: Sequence[FieldName]) -> ChatRequest:
    wanted = "\n".join(f'- "{name}": {SPECS[name].description}' for name in fields)
    parts = [
        f"=== documento: {doc.name} | página {number} ===\n{page.strip()[:MAX_DOCUMENT_CHARS]}"
        for doc in documents
        if doc.kind not in SKIPPED_KINDS
        for number, page in enumerate(doc.pages, start=1)
        if page.strip()
    ]
    user = f"Campos:\n{wanted}\n\nDocumentos:\n" + "\n\n".join(parts)
    return ChatRequest(
        messages=[ChatMessage(role="system", content=SYSTEM_PROMPT), ChatMessage(role="user", content=user)],
        max_tokens=512,
        temperature=0.0,
    )


def _json_object(text: str) -> dict[str, Any] | None:
    match = re.search(r"\{.*\}", text, flags=re.DOTALL)
    if match is None:
        return None
    try:
        answer = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    return answer if isinstance(answer, dict) else None


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text)).strip()


def grounded(name: FieldName, proposal: Any, documents: dict[str, Document]) -> Extracted | str:
    """The proposal as an extracted value, or why it is rejected."""
    if not isinstance(proposal, dict):
        return f"{name}: not an object"
    raw, doc_name, quote = proposal.get("valor"), proposal.get("documento"), proposal.get("trecho")
    document = documents.get(str(doc_name))
    if raw is None or not isinstance(quote, str) or not quote.strip():
        return f"{name}: no value or no snippet"
    if document is None:
        return f"{name}: unknown document {doc_name!r}"
    page = proposal.get("pagina")
    pages = [page] if isinstance(page, int) and 1 <= page <= len(document.pages) else []
    pages = pages or list(range(1, len(document.pages) + 1))
    where = next((p for p in pages if _squash(quote) in _squash(document.pages[p - 1])), None)
    if where is None:
        return f"{name}: snippet not found in {document.name}"
    if alnum_key(str(raw)) not in alnum_key(quote):
        return f"{name}: value {raw!r} not in its snippet"
    try:
        value = SPECS[name].parse(str(raw))
    except ValueError:
        return f"{name}: value {raw!r} not understood"
    evidence = Evidence(document=document.name, page=where, snippet=re.sub(r"\s+", " ", quote).strip())
    return Extracted(field=name, value=value, method="llm", evidence=evidence)


async def extract_with_llm(
    engine: ChatLike, documents: Sequence[Document], fields: Sequence[FieldName]
) -> LlmExtraction:
    if not fields or not documents:
        return LlmExtraction()
    try:
        result = await engine.generate(build_request(documents, fields))
    except Exception as error:  # EngineUnavailable, AllEnginesFailed, a timeout: the patterns stand alone
        return LlmExtraction(error=f"{type(error).__name__}: {error}"[:300])
    answer = _json_object(result.text)
    if answer is None:
        return LlmExtraction(engine=result.engine, error="the answer is not a JSON object")
    extraction = LlmExtraction(engine=result.engine)
    by_name = {document.name: document for document in documents}
    for name in fields:
        if answer.get(name) is None:
            continue
        outcome = grounded(name, answer[name], by_name)
        if isinstance(outcome, str):
            extraction.rejected.append(outcome)
        else:
            extraction.found.append(outcome)
    return extraction
