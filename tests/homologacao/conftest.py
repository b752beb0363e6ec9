"""Sample packages as the rules see them: the case, its documents as read text, and the catalog facts.

Built in memory from `samples.homologacao_cases` (no PDF round trip: the reading tests cover that)."""

from __future__ import annotations

from dataclasses import dataclass

from homologacao.case import Case, Equipment
from homologacao.check import CheckResult, evaluate
from homologacao.config import HomologacaoConfig
from homologacao.documents import Document, classified
from samples.homologacao_cases import SampleSystem, build_case, default_system, package_texts

CONFIG = HomologacaoConfig()


@dataclass(frozen=True)
class TextPackage:
    case: Case
    documents: list[Document]
    catalog: dict[str, Equipment]

    def check(self, config: HomologacaoConfig = CONFIG) -> CheckResult:
        return evaluate(self.case, self.documents, [], self.catalog, config)


def text_package(
    system: SampleSystem | None = None, *, inverter_id: str | None = None, name: str = "teste"
) -> TextPackage:
    system = system or default_system()
    documents = [classified(file, tuple(pages)) for file, pages in package_texts(system).items()]
    catalog = {system.inverter.product_id: system.inverter, system.module.product_id: system.module}
    return TextPackage(build_case(name, system, inverter_id=inverter_id), documents, catalog)


def failed(result: CheckResult) -> dict[str, str]:
    """Rule → severity of each failing item."""
    return {item.rule: item.severity for item in result.items if not item.ok}
