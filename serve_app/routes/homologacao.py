"""POST /store/helio/homologacao/check: the multipart package in, the check of `services.homologacao` out.
Only a request the caller got wrong (bad case JSON, too many files) answers 422; no catalog loaded, 503.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile

from homologacao.check import CheckResult
from kernel.errors import InvalidRequest
from serve_app.errors import ErrorBody
from serve_app.routes import service_on_state
from services.homologacao import HomologacaoService, parse_case


async def _uploads(service: HomologacaoService, files: list[UploadFile]) -> list[tuple[str, bytes]]:
    """Each file read up to one byte past the limit: enough to say it is too large, no more in memory."""
    if len(files) > service.config.max_files:
        raise InvalidRequest(f"files: at most {service.config.max_files} files per package")
    names = [upload.filename or f"arquivo-{number}" for number, upload in enumerate(files, start=1)]
    if len(set(names)) < len(names):
        raise InvalidRequest("files: two files with the same name")
    return [
        (name, await upload.read(service.config.max_file_bytes + 1))
        for name, upload in zip(names, files, strict=True)
    ]


HomologacaoDep = Annotated[HomologacaoService, Depends(service_on_state("homologacao", "homologação"))]
routes = APIRouter()


@routes.post(
    "/store/helio/homologacao/check",
    response_model=CheckResult,
    summary="Check a homologação package before it goes to the utility",
    description=(
        "Multipart: `case` (JSON: consumer unit, modules and inverters by catalog id, kWp) and `files` "
        "(PDF or text, 20 MB each). Answers the status (`rejected` when an error item fails, `pending` "
        "when only warnings do, `approved` otherwise), each rule's item with its evidence, source and fix, "
        "and the fields read from the documents with where they were read. Unreadable, oversized or "
        "unsupported files are error items of the answer."
    ),
    responses={
        422: {"model": ErrorBody, "description": "Bad case JSON or too many files"},
        503: {"model": ErrorBody, "description": "The catalog has not been loaded"},
    },
    tags=["homologacao"],
)
async def check_homologacao(
    service: HomologacaoDep,
    case: Annotated[str, Form(description="The case, JSON (homologacao.case.Case).")],
    files: Annotated[list[UploadFile] | None, File(description="The package's documents.")] = None,
) -> CheckResult:
    parsed = parse_case(case)
    return await service.check(parsed, await _uploads(service, files or []))
