"""The homologação check of a package (case + files), before it goes to the utility.

The service holds the catalog lookup and the optional chat chain. The lookup is filled by the same load
as the kit recommender's snapshot (`ProductCatalog.remembering` wraps its loader: one query, the same
refresh), keeping the raw specs the recommender drops, such as the Inmetro registration. Bad files are
items of the answer, never errors: only a request the caller got wrong (bad case JSON) is an
`InvalidRequest`, and a catalog never loaded a `DependencyUnavailable`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pydantic import ValidationError

from homologacao.case import Case, Equipment, equipment_from_specs
from homologacao.check import CheckResult, check_package, read_package
from homologacao.config import HomologacaoConfig
from homologacao.llm_extraction import ChatLike
from kernel.errors import DependencyUnavailable, InvalidRequest
from kernel.schemas import Offer, Product

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
