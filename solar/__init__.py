"""The solar domain, pure (no Ray, no network, no database): what the recommend/quote endpoints and the
tariff ingestion job call.

- `parameters`: every approximate number, one typed object loaded from `solar/data/` (overridable)
- `tariffs`: ANEEL tariff CSV parser and the residential B1 tariff per utility (CNPJ)
- `places`: Atlas irradiance CSV, site lookup by city/UF or nearest lat/lon
- `sizing`: kWp needed after the minimum bill; expected generation
- `strings`: electrical checks (cold Voc, hot Vmp, MPPT window and current, DC/AC, AC connection)
- `equipment`, `offers`, `balance`, `kits`, `kit_options`, `prebuilt`: kit composition and ranking
- `finance`, `financing`: savings under Lei 14.300, paybacks, 25-year cash flow, instalments
"""

from solar.connection import GridConnection
from solar.equipment import EquipmentIndex
from solar.finance import FinanceInput, FinanceResult, analyse_investment, fio_b_share, tariff_with_taxes
from solar.financing import FinancingOption, financing_options, price_instalment
from solar.kit_options import KitNeed, KitOption
from solar.kits import KitSearchResult, compose_kits
from solar.offers import CatalogItem, OfferTerms, catalog_items
from solar.parameters import SolarParameters, load_parameters
from solar.places import Atlas, Site, UnknownPlace, capitals_atlas
from solar.sizing import SizingResult, size_system
from solar.strings import Check
from solar.tariffs import (
    RejectedTariffRow,
    ResidentialTariff,
    TariffRow,
    parse_tariff_rows,
    residential_tariffs,
)

__all__ = [
    "Atlas",
    "CatalogItem",
    "Check",
    "EquipmentIndex",
    "FinanceInput",
    "FinanceResult",
    "FinancingOption",
    "GridConnection",
    "KitNeed",
    "KitOption",
    "KitSearchResult",
    "OfferTerms",
    "RejectedTariffRow",
    "ResidentialTariff",
    "Site",
    "SizingResult",
    "SolarParameters",
    "TariffRow",
    "UnknownPlace",
    "analyse_investment",
    "capitals_atlas",
    "catalog_items",
    "compose_kits",
    "financing_options",
    "fio_b_share",
    "load_parameters",
    "parse_tariff_rows",
    "price_instalment",
    "residential_tariffs",
    "size_system",
    "tariff_with_taxes",
]
