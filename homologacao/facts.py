"""What the rules look at: the case, its readable documents, the fields read from them and the catalog."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from homologacao.case import Case, Equipment, SystemLine
from homologacao.config import HomologacaoConfig
from homologacao.documents import Document, DocumentKind, Evidence
from homologacao.extraction import Extracted, FieldName

ORDER = "pedido"
CATALOG = "catálogo"


@dataclass(frozen=True)
class Facts:
    case: Case
    documents: tuple[Document, ...]
    extracted: tuple[Extracted, ...]
    catalog: Mapping[str, Equipment]  # product id → what the catalog says; a missing id is unknown
    config: HomologacaoConfig

    @property
    def kinds(self) -> set[DocumentKind]:
        return {document.kind for document in self.documents if document.kind is not None}

    def documents_of(self, kind: DocumentKind) -> list[Document]:
        return [document for document in self.documents if document.kind == kind]

    def values(self, field: FieldName, kinds: Iterable[DocumentKind] | None = None) -> list[Extracted]:
        """The values found for `field`, only in documents of `kinds` when given."""
        wanted = set(kinds) if kinds is not None else None
        kind_of = {document.name: document.kind for document in self.documents}
        return [
            item
            for item in self.extracted
            if item.field == field and (wanted is None or kind_of.get(item.evidence.document) in wanted)
        ]

    def equipment(self, line: SystemLine) -> Equipment | None:
        return self.catalog.get(line.product_id)

    def inverters(self) -> list[tuple[SystemLine, Equipment | None]]:
        return [(line, self.equipment(line)) for line in self.case.system.inverters]

    def ac_power_w(self) -> float | None:
        """Total inverter AC power; None when the catalog does not give it for every inverter."""
        total = 0.0
        for line, equipment in self.inverters():
            if equipment is None or equipment.power_w is None:
                return None
            total += equipment.power_w * line.quantity
        return total

    def module_power_w(self) -> float | None:
        """Total module power (STC) from the catalog; None when a module's Pmax is unknown."""
        total = 0.0
        for line in self.case.system.modules:
            equipment = self.equipment(line)
            if equipment is None or equipment.power_w is None:
                return None
            total += equipment.power_w * line.quantity
        return total


def order_evidence(snippet: str) -> Evidence:
    return Evidence(document=ORDER, snippet=snippet)


def catalog_evidence(equipment: Equipment, snippet: str) -> Evidence:
    return Evidence(document=CATALOG, snippet=f"{equipment.brand} {equipment.model}: {snippet}")
