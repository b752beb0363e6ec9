"""The bytes of one submitted file → its text page by page, or the reason it cannot be read.

PDF (pypdf) and plain text only; images of text (scanned PDFs, photos) are out of scope and say so.
Nothing here raises on bad input: an oversized, unsupported, encrypted or broken file is a `ReadProblem`,
which the check turns into an error item of the package.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

import pypdf

from homologacao.config import HomologacaoConfig
from homologacao.documents import Document, classified

ProblemKind = Literal["too_large", "unsupported_type", "empty_file", "encrypted_pdf", "broken_pdf", "no_text"]
TEXT_SUFFIXES = (".txt", ".text")
PDF_SUFFIX = ".pdf"
SUPPORTED = "PDF (.pdf) or plain text (.txt)"


@dataclass(frozen=True)
class ReadProblem:
    name: str
    kind: ProblemKind
    message: str  # for the integrator, in Portuguese


def file_type(name: str, data_start: bytes) -> Literal["pdf", "text"] | None:
    """By suffix; a PDF is also recognised by its magic bytes under another name."""
    lowered = name.lower()
    if lowered.endswith(PDF_SUFFIX) or data_start.startswith(b"%PDF-"):
        return "pdf"
    if lowered.endswith(TEXT_SUFFIXES):
        return "text"
    return None


def _text(name: str, data: bytes) -> Document | ReadProblem:
    if b"\x00" in data:
        return ReadProblem(name, "unsupported_type", "arquivo .txt com conteúdo binário; envie texto ou PDF")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Windows-made Brazilian text files
    pages = tuple(text.split("\f"))  # form feeds separate pages, where a tool wrote them
    return classified(name, pages)


def _pdf(name: str, data: bytes, max_pages: int) -> Document | ReadProblem:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return ReadProblem(
                name, "encrypted_pdf", "PDF protegido por senha: envie o arquivo sem senha nem criptografia"
            )
        if len(reader.pages) > max_pages:
            return ReadProblem(name, "unsupported_type", f"PDF com mais de {max_pages} páginas")
        pages = tuple(page.extract_text() or "" for page in reader.pages)
    except Exception as error:  # pypdf raises many types on corrupt files; any of them means unreadable
        return ReadProblem(
            name, "broken_pdf", f"PDF corrompido ou inválido ({type(error).__name__}): gere o arquivo de novo"
        )
    if not any(page.strip() for page in pages):
        return ReadProblem(
            name,
            "no_text",
            f"PDF de {len(pages)} página(s) sem texto (digitalizado?): envie o PDF gerado pelo programa",
        )
    return classified(name, pages)


def read_file(name: str, data: bytes, config: HomologacaoConfig) -> Document | ReadProblem:
    if len(data) > config.max_file_bytes:
        limit_mb = config.max_file_bytes / (1024 * 1024)
        return ReadProblem(name, "too_large", f"arquivo acima do limite de {limit_mb:g} MB")
    if not data:
        return ReadProblem(name, "empty_file", "arquivo vazio")
    kind = file_type(name, data[:5])
    if kind is None:
        return ReadProblem(name, "unsupported_type", f"tipo de arquivo não aceito: envie {SUPPORTED}")
    return _pdf(name, data, config.max_pages) if kind == "pdf" else _text(name, data)
