"""POST /store/helio/homologacao/check: a homologação package (case JSON + files) checked before it goes
to the utility.

The service holds the catalog lookup and the optional chat chain. The lookup is filled by the same load
as the kit recommender's snapshot (`ProductCatalog.remembering` wraps its loader: one query, the same
refresh), keeping the raw specs the recommender drops, such as the Inmetro registration. Bad files are
items of the answer (200), never errors: only a request the caller got wrong (bad case JSON, too many
files) answers 422, and a catalog never loaded answers 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import ValidationError

from homologacao.case import Case, Equipment, equipment_from_specs
from homologacao.check import CheckResult, check_package, read_package
from homologacao.config import HomologacaoConfig
from homologacao.llm_extraction import ChatLike
from kernel.schemas import Offer, Product
from serve_app.errors import DependencyUnavailable, ErrorBody, InvalidRequest

CatalogLoader = Callable[[], tuple[list[Product], list[Offer]]]
CATALOG = "catalog database"


class ProductCatalog:
    """Equipment by product id, swapped whole at each load (requests keep the mapping they took)."""

    def __init__(self, products: list[Product] | None = None) -> None:
        self._by_id: dict[str, Equipment] | None = None
        if products is not None:
            self.replace(products)

    def replace(self, products: list[Product]) -> None:
        self._by_id = {
            p.id: equipment_from_specs(p.id, p.category, p.brand, p.model, p.specs) for p in products
        }

    def remembering(self, load: CatalogLoader) -> CatalogLoader:
        """`load`, keeping what it returns here as well."""

        def load_and_keep() -> tuple[list[Product], list[Offer]]:
            products, offers = load()
            self.replace(products)
            return products, offers

        return load_and_keep

    def snapshot(self) -> dict[str, Equipment]:
        if self._by_id is None:
            raise DependencyUnavailable(CATALOG, "the catalog has not been loaded yet")
        return self._by_id


class HomologacaoService:
    def __init__(
        self, catalog: ProductCatalog, chain: ChatLike | None = None, config: HomologacaoConfig | None = None
    ) -> None:
        self.catalog = catalog
        self.chain = chain
        self.config = config or HomologacaoConfig()

    async def check(self, case: Case, files: list[tuple[str, bytes]]) -> CheckResult:
        catalog = self.catalog.snapshot()
        documents, problems = await asyncio.to_thread(read_package, files, self.config)
        return await check_package(case, documents, problems, catalog, self.config, self.chain)


def parse_case(text: str) -> Case:
    try:
        return Case.model_validate_json(text)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in e['loc']) or 'case'}: {e['msg']}" for e in error.errors()
        ]
        raise InvalidRequest("case: " + "; ".join(problems)) from None


async def _service(request: Request) -> HomologacaoService:
    service: HomologacaoService | None = getattr(request.app.state, "homologacao", None)
    if service is None:
        raise DependencyUnavailable("homologação", "not configured")
    return service


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


HomologacaoDep = Annotated[HomologacaoService, Depends(_service)]
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
