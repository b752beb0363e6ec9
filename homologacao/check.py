"""A package checked: its items, the fields read, and the status.

Status: `rejected` when any error item fails (the utility would send it back), `pending` when only
warnings fail (something could not be verified, an unknown inverter, an unidentified document: a person
looks before sending), `approved` when every item passes. Unknowns are warnings on purpose: an
unverified package is never approved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, Field

from homologacao.case import Case, Equipment
from homologacao.config import HomologacaoConfig
from homologacao.documents import Document, Evidence
from homologacao.extraction import Extracted, extract_fields, missing_fields
from homologacao.facts import Facts
from homologacao.items import Item
from homologacao.llm_extraction import ChatLike, extract_with_llm
from homologacao.reading import ReadProblem, read_file
from homologacao.rules import apply_rules

Status = Literal["approved", "pending", "rejected"]
READ_RULE = "arquivo_legivel"
READ_SOURCE = "Padrão de envio da plataforma (PDF ou texto, sem senha, até o limite de tamanho)"
READ_FIX = (
    "Envie o documento em PDF gerado digitalmente (sem senha) ou em texto, dentro do limite de tamanho."
)


class CheckResult(BaseModel):
    case_id: str
    status: Status
    items: list[Item]
    extracted: dict[str, list[Extracted]] = Field(
        description="Per field, every value read (pattern or LLM) with its evidence."
    )
    notes: list[str] = Field(default_factory=list, description="How the LLM step went, when it ran.")


def decide_status(items: Iterable[Item]) -> Status:
    failed = [item for item in items if not item.ok]
    if any(item.severity == "error" for item in failed):
        return "rejected"
    return "pending" if failed else "approved"


def problem_item(problem: ReadProblem) -> Item:
    return Item(
        rule=READ_RULE,
        ok=False,
        severity="error",
        message=f"{problem.name}: {problem.message}",
        evidence=[Evidence(document=problem.name, snippet=problem.kind)],
        fix=READ_FIX,
        source=READ_SOURCE,
    )


def read_package(
    files: Iterable[tuple[str, bytes]], config: HomologacaoConfig
) -> tuple[list[Document], list[ReadProblem]]:
    documents: list[Document] = []
    problems: list[ReadProblem] = []
    for name, data in files:
        outcome = read_file(name, data, config)
        if isinstance(outcome, ReadProblem):
            problems.append(outcome)
        else:
            documents.append(outcome)
    return documents, problems


def evaluate(
    case: Case,
    documents: Sequence[Document],
    problems: Sequence[ReadProblem],
    catalog: Mapping[str, Equipment],
    config: HomologacaoConfig,
    extracted: Sequence[Extracted] | None = None,
    notes: Sequence[str] = (),
) -> CheckResult:
    """Apply every rule; `extracted` defaults to the pattern extraction of `documents`."""
    found = list(extract_fields(documents) if extracted is None else extracted)
    facts = Facts(case, tuple(documents), tuple(found), catalog, config)
    items = [problem_item(problem) for problem in problems] + apply_rules(facts)
    by_field: dict[str, list[Extracted]] = {}
    for item in found:
        by_field.setdefault(item.field, []).append(item)
    return CheckResult(
        case_id=case.case_id, status=decide_status(items), items=items, extracted=by_field, notes=list(notes)
    )


async def check_package(
    case: Case,
    documents: Sequence[Document],
    problems: Sequence[ReadProblem],
    catalog: Mapping[str, Equipment],
    config: HomologacaoConfig,
    engine: ChatLike | None = None,
) -> CheckResult:
    """Extract by patterns, ask `engine` (when given) for the fields still missing, apply the rules.
    The files are read before (`read_package`, CPU-bound: callers on an event loop run it in a thread)."""
    extracted = extract_fields(documents)
    notes: list[str] = []
    missing = missing_fields(extracted)
    if engine is not None and missing and documents:
        llm = await extract_with_llm(engine, documents, missing)
        extracted += llm.found
        if llm.error:
            notes.append(f"LLM extraction skipped: {llm.error}")
        else:
            kept = ", ".join(item.field for item in llm.found) or "nothing"
            notes.append(f"LLM extraction by {llm.engine}: asked {', '.join(missing)}; kept {kept}")
        notes.extend(f"LLM value rejected: {reason}" for reason in llm.rejected)
    return evaluate(case, documents, problems, catalog, config, extracted, notes)
