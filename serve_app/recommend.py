"""Kit recommendation end to end, without Serve or HTTP: site → sizing → tariff → kits → finance.

Every number comes from `solar/` (sizing, kit composition, finance, financing); this module only looks
things up, wires the steps together and shapes the response. The catalog snapshot (an `EquipmentIndex`
of in-stock parts) is built once and rebuilt every `refresh_s` in a background thread, so a new catalog
shows up without a restart; while none could be loaded the endpoint answers 503.
"""

from __future__ import annotations

import csv
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.schemas import Offer, Product
from serve_app.errors import DependencyUnavailable, InvalidRequest
from solar import (
    Atlas,
    Check,
    EquipmentIndex,
    FinanceInput,
    FinancingOption,
    GridConnection,
    KitNeed,
    KitOption,
    ResidentialTariff,
    Site,
    SolarParameters,
    UnknownPlace,
    analyse_investment,
    capitals_atlas,
    catalog_items,
    compose_kits,
    financing_options,
    load_parameters,
    parse_tariff_rows,
    residential_tariffs,
    size_system,
    tariff_with_taxes,
)
from solar.parameters import DATA_DIR as SOLAR_DATA_DIR
from solar.tariffs import TariffRow, is_residential_conventional, normalize_cnpj
from solar.text import fold

log = logging.getLogger(__name__)

MAX_CONSUMPTION_KWH_MONTH = 1_000_000.0
DEFAULT_ROOF_TYPE = "ceramico"
TARIFF_SAMPLE_FILE = SOLAR_DATA_DIR / "tarifas-amostra.csv"
DEFAULT_UTILITY_FILE = Path(__file__).resolve().parent / "data" / "distribuidora-padrao-uf.csv"
CATALOG_DATABASE = "catalog database"

CatalogLoader = Callable[[], tuple[list[Product], list[Offer]]]


# ---------------------------------------------------------------- request and response models


class RecommendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consumption_kwh_month: float | None = Field(
        default=None,
        gt=0,
        le=MAX_CONSUMPTION_KWH_MONTH,
        description="Average monthly consumption, kWh. Give this or `monthly_kwh`.",
    )
    monthly_kwh: list[float] | None = Field(
        default=None,
        min_length=12,
        max_length=12,
        description="Twelve monthly consumptions (Jan…Dec), kWh. Give this or `consumption_kwh_month`.",
    )
    city: str | None = Field(default=None, min_length=1, max_length=100, description="City, with `uf`.")
    uf: str | None = Field(default=None, min_length=2, max_length=30, description="State: `SP` or its name.")
    lat: float | None = Field(default=None, ge=-90, le=90, description="Latitude, with `lon`.")
    lon: float | None = Field(default=None, ge=-180, le=180, description="Longitude, with `lat`.")
    connection: Literal["mono", "bi", "tri"] = Field(
        description="Grid connection: mono-, bi- or three-phase."
    )
    utility: str | None = Field(
        default=None, max_length=100, description="Utility by name (`CEMIG-D`) or CNPJ; default: the state's."
    )
    roof_type: str | None = Field(
        default=None,
        max_length=40,
        description=f"ceramico, metalico, fibrocimento, laje, solo; default {DEFAULT_ROOF_TYPE}.",
    )
    budget_brl: float | None = Field(default=None, gt=0, description="Only options up to this total.")

    @model_validator(mode="after")
    def _one_consumption_and_one_place(self) -> RecommendRequest:
        if (self.consumption_kwh_month is None) == (self.monthly_kwh is None):
            raise ValueError(
                "give either consumption_kwh_month or monthly_kwh (12 values), not both or neither"
            )
        if self.monthly_kwh is not None:
            if any(not 0 <= month <= MAX_CONSUMPTION_KWH_MONTH for month in self.monthly_kwh):
                raise ValueError(f"monthly_kwh values must be between 0 and {MAX_CONSUMPTION_KWH_MONTH:,.0f}")
            if sum(self.monthly_kwh) <= 0:
                raise ValueError("monthly_kwh must add up to more than 0")
        by_city = self.city is not None and self.uf is not None
        by_point = self.lat is not None and self.lon is not None
        if not (by_city or by_point):
            raise ValueError("give the place as city and uf, or as lat and lon")
        return self

    @property
    def consumption(self) -> float | list[float]:
        if self.monthly_kwh is not None:
            return self.monthly_kwh
        assert self.consumption_kwh_month is not None
        return self.consumption_kwh_month


class SiteView(BaseModel):
    name: str
    uf: str
    lat: float
    lon: float
    hsp: float = Field(description="Annual average HSP, kWh/m²/day.")
    distance_km: float | None = Field(description="From the point asked for to this site (lat/lon lookups).")
    source: str


class SizingView(BaseModel):
    kwp: float = Field(description="DC power needed, kWp.")
    hsp: float
    pr: float = Field(description="Performance ratio.")
    generation_kwh_month: float = Field(description="Average monthly generation of `kwp`.")
    consumption_kwh_month: float
    minimum_bill_kwh: float = Field(description="Custo de disponibilidade of the connection.")
    offset_kwh_month: float = Field(description="Consumption the system can take off the bill.")


class TariffView(BaseModel):
    utility: str
    cnpj: str | None = Field(description="None when the tariff is an average of several utilities.")
    tusd_brl_kwh: float
    te_brl_kwh: float
    tariff_brl_kwh: float = Field(description="TUSD + TE, without taxes.")
    with_taxes_brl_kwh: float = Field(description="With PIS/COFINS and the state's ICMS.")
    valid_from: date | None
    valid_to: date | None
    source: str = Field(description="Where the tariff came from and why this one.")


class BomLine(BaseModel):
    product_id: str
    sku: str
    title: str
    category: str
    qty: int
    unit_price_brl: float
    distributor: str
    lead_time_days: int


class KitOptionView(BaseModel):
    kind: str
    title: str
    bom: list[BomLine]
    total_brl: float
    price_per_wp: float
    dc_power_w: float
    ac_power_w: float | None
    dc_ac_ratio: float | None = Field(description="Module kWp (STC) / inverter AC kW.")
    strings: int | None
    lead_time_days: int = Field(description="The slowest line's lead time.")
    checks: list[Check]


class FinanceView(BaseModel):
    option: int = Field(description="Index in `options` of the option priced here (the best).")
    investment_brl: float
    first_year_savings_brl: float
    monthly_savings_brl: float
    simple_payback_years: float | None
    discounted_payback_years: float | None
    npv_brl: float
    irr: float | None
    financing: list[FinancingOption]


class RecommendResponse(BaseModel):
    site: SiteView
    sizing: SizingView
    tariff: TariffView
    options: list[KitOptionView] = Field(description="Best first (price per Wp, lead time, total).")
    finance: FinanceView | None = Field(description="For the best option; None without options.")
    reason: str | None = Field(description="Why there are no options, when there are none.")
    notes: list[str] = Field(description="Why some kinds of option are missing.")


# ---------------------------------------------------------------- tariffs


class UnknownUtility(LookupError):
    pass


def _read_default_utilities(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return {row["uf"].upper(): normalize_cnpj(row["cnpj"]) for row in csv.DictReader(lines, delimiter=";")}


class DefaultTariffs:
    """The tariff seam until a tariff store exists: ANEEL's residential B1 tariffs in force (from the sample
    file in `solar/data`) and a default utility per state; states without one get the sample's average."""

    def __init__(
        self, tariffs: dict[str, ResidentialTariff], utility_by_uf: dict[str, str], source: str
    ) -> None:
        if not tariffs:
            raise ValueError("no residential tariff in force")
        self._tariffs = tariffs
        self._utility_by_uf = {uf: cnpj for uf, cnpj in utility_by_uf.items() if cnpj in tariffs}
        self._by_name = {fold(tariff.agent): tariff for tariff in tariffs.values()}
        self._source = source
        count = len(tariffs)
        self._average = ResidentialTariff(
            cnpj="",
            agent=f"média de {count} distribuidoras",
            reh="",
            valid_from=max(t.valid_from for t in tariffs.values()),
            valid_to=min(t.valid_to for t in tariffs.values()),
            tusd_brl_kwh=sum(t.tusd_brl_kwh for t in tariffs.values()) / count,
            te_brl_kwh=sum(t.te_brl_kwh for t in tariffs.values()) / count,
        )

    @classmethod
    def from_sample(
        cls, on: date, tariff_file: Path = TARIFF_SAMPLE_FILE, utility_file: Path = DEFAULT_UTILITY_FILE
    ) -> DefaultTariffs:
        rows = list(parse_tariff_rows(tariff_file.read_bytes()))
        source = f"ANEEL sample {tariff_file.name}"
        tariffs = residential_tariffs(rows, on)
        if not tariffs:  # the sample has aged out: the last tariffs it has, rather than no endpoint at all
            ends = {r.valid_to for r in rows if isinstance(r, TariffRow) and is_residential_conventional(r)}
            for end in sorted(end for end in ends if end < on):  # each utility's last tariff wins
                tariffs |= residential_tariffs(rows, end)
            source += f" (none in force on {on}: each utility's last tariff)"
        return cls(tariffs, _read_default_utilities(utility_file), source)

    def known_utilities(self) -> list[str]:
        return sorted(tariff.agent for tariff in self._tariffs.values())

    def _named(self, utility: str) -> ResidentialTariff | None:
        try:
            by_cnpj = self._tariffs.get(normalize_cnpj(utility))
        except ValueError:
            by_cnpj = None
        return by_cnpj or self._by_name.get(fold(utility))

    def tariff_for(self, site: Site, utility: str | None) -> tuple[ResidentialTariff, str]:
        """The tariff and a sentence saying where it came from; UnknownUtility for a name not on file."""
        if utility is not None:
            tariff = self._named(utility)
            if tariff is None:
                raise UnknownUtility(
                    f"unknown utility {utility!r}; known: {', '.join(self.known_utilities())}"
                )
            return tariff, f"{self._source}, {tariff.reh}: utility asked for"
        cnpj = self._utility_by_uf.get(site.uf)
        if cnpj is None:
            return self._average, f"{self._source}: no default utility for {site.uf}, average tariff"
        tariff = self._tariffs[cnpj]
        return tariff, f"{self._source}, {tariff.reh}: default utility of {site.uf}"


# ---------------------------------------------------------------- the catalog snapshot


@dataclass(frozen=True)
class CatalogSnapshot:
    index: EquipmentIndex
    titles: dict[str, str]  # product id → title
    products: int
    loaded_at: float


def build_snapshot(
    products: list[Product], offers: list[Offer], *, module_slots_default: int
) -> CatalogSnapshot:
    index = EquipmentIndex.build(catalog_items(products, offers), module_slots_default=module_slots_default)
    return CatalogSnapshot(index, {p.id: p.title for p in products}, len(products), time.time())


def _option_view(option: KitOption, titles: dict[str, str]) -> KitOptionView:
    bom = [
        BomLine(
            product_id=line.product_id,
            sku=line.sku,
            title=titles.get(line.product_id) or f"{line.brand} {line.model}",
            category=line.category,
            qty=line.quantity,
            unit_price_brl=line.unit_price_brl,
            distributor=line.distributor,
            lead_time_days=line.lead_time_days,
        )
        for line in option.lines
    ]
    return KitOptionView(
        kind=option.kind,
        title=option.title,
        bom=bom,
        total_brl=option.total_price_brl,
        price_per_wp=option.price_per_wp,
        dc_power_w=option.dc_power_w,
        ac_power_w=option.ac_power_w,
        dc_ac_ratio=option.dc_ac_ratio,
        strings=option.layout.strings if option.layout else None,
        lead_time_days=option.lead_time_days,
        checks=option.checks,
    )


# ---------------------------------------------------------------- the orchestration


class KitRecommender:
    """Plain class: the router holds one per replica; tests call it directly."""

    def __init__(
        self,
        *,
        load_catalog: CatalogLoader,
        max_options: int,
        params: SolarParameters | None = None,
        atlas: Atlas | None = None,
        tariffs: DefaultTariffs | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        self._load_catalog = load_catalog
        self._max_options = max_options
        self.params = params or load_parameters()
        self._atlas = atlas or capitals_atlas()
        self._today = today
        self._tariffs = tariffs or DefaultTariffs.from_sample(today())
        self._snapshot: CatalogSnapshot | None = None
        self._load_error = "not loaded yet"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def snapshot(self) -> CatalogSnapshot | None:
        return self._snapshot

    def refresh(self) -> bool:
        """Load the catalog and swap the snapshot in; on failure keep the previous one (if any)."""
        try:
            products, offers = self._load_catalog()
            snapshot = build_snapshot(
                products, offers, module_slots_default=self.params.kits.structure_module_slots_default
            )
        except Exception as error:  # the database may be down or half-migrated: keep serving what we have
            self._load_error = f"{type(error).__name__}: {error}".splitlines()[0][:200]
            log.warning("catalog for kit recommendations not loaded: %s", self._load_error)
            return False
        self._snapshot = snapshot  # one reference swap: requests in flight keep the snapshot they took
        log.info("kit recommendations: %d products loaded", snapshot.products)
        return True

    def start_refreshing(self, refresh_s: float) -> None:
        """Rebuild the snapshot every `refresh_s` in a daemon thread (the first build is up to the caller)."""

        def loop() -> None:
            while not self._stop.wait(refresh_s):
                self.refresh()

        self._thread = threading.Thread(target=loop, name="kit-catalog-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _site(self, request: RecommendRequest) -> tuple[Site, float | None]:
        if request.city is not None and request.uf is not None:
            try:
                return self._atlas.find(request.city, request.uf), None
            except UnknownPlace as error:
                raise InvalidRequest(str(error)) from None
        assert request.lat is not None and request.lon is not None
        site, distance = self._atlas.nearest(request.lat, request.lon)
        return site, round(distance, 1)

    def recommend(self, request: RecommendRequest) -> RecommendResponse:
        params = self.params
        site, distance_km = self._site(request)
        try:
            tariff, tariff_source = self._tariffs.tariff_for(site, request.utility)
        except UnknownUtility as error:
            raise InvalidRequest(str(error)) from None
        snapshot = self._snapshot
        if snapshot is None:
            raise DependencyUnavailable(CATALOG_DATABASE, self._load_error)

        sizing = size_system(request.consumption, site.hsp, request.connection, params.sizing)
        tariff_view = TariffView(
            utility=tariff.agent,
            cnpj=tariff.cnpj or None,
            tusd_brl_kwh=round(tariff.tusd_brl_kwh, 5),
            te_brl_kwh=round(tariff.te_brl_kwh, 5),
            tariff_brl_kwh=round(tariff.tariff_brl_kwh, 5),
            with_taxes_brl_kwh=round(tariff_with_taxes(tariff.tariff_brl_kwh, site.uf, params), 5),
            valid_from=tariff.valid_from,
            valid_to=tariff.valid_to,
            source=tariff_source,
        )
        options: list[KitOptionView] = []
        notes: list[str] = []
        reason: str | None = None
        if sizing.kwp_needed <= 0:
            reason = (
                f"consumption does not exceed the minimum bill ({sizing.minimum_bill_kwh:g} kWh/month for "
                f"{request.connection}): a system would offset nothing"
            )
        else:
            need = KitNeed(
                kwp=sizing.kwp_needed,
                roof_type=request.roof_type or DEFAULT_ROOF_TYPE,
                connection=GridConnection(kind=request.connection),
                site=params.site_temperatures(site.uf),
            )
            found = compose_kits(snapshot.index, need, params)
            notes = found.notes
            within = [
                o
                for o in found.options
                if request.budget_brl is None or o.total_price_brl <= request.budget_brl
            ]
            options = [_option_view(option, snapshot.titles) for option in within[: self._max_options]]
            if not found.options:
                reason = f"no kit of {sizing.kwp_needed:.2f} kWp can be composed from the catalog in stock"
                reason += f" ({'; '.join(notes)})" if notes else ""
            elif not within:
                cheapest = min(o.total_price_brl for o in found.options)
                reason = (
                    f"no option within the budget of R$ {request.budget_brl:,.2f}; "
                    f"the cheapest is R$ {cheapest:,.2f}"
                )

        return RecommendResponse(
            site=SiteView(
                name=site.name,
                uf=site.uf,
                lat=site.lat,
                lon=site.lon,
                hsp=site.hsp,
                distance_km=distance_km,
                source="solar/data/irradiancia-capitais.csv (Atlas format, state capitals)",
            ),
            sizing=SizingView(
                kwp=round(sizing.kwp_needed, 3),
                hsp=sizing.hsp,
                pr=sizing.performance_ratio,
                generation_kwh_month=round(sizing.expected_generation_kwh_month, 1),
                consumption_kwh_month=round(sizing.consumption_kwh_month, 1),
                minimum_bill_kwh=sizing.minimum_bill_kwh,
                offset_kwh_month=round(sizing.offset_kwh_month, 1),
            ),
            tariff=tariff_view,
            options=options,
            finance=self._finance(options[0], request, site, tariff) if options else None,
            reason=reason,
            notes=notes,
        )

    def _finance(
        self, option: KitOptionView, request: RecommendRequest, site: Site, tariff: ResidentialTariff
    ) -> FinanceView:
        params, today = self.params, self._today()
        result = analyse_investment(
            FinanceInput(
                investment_brl=option.total_brl,
                system_kwp=option.dc_power_w / 1000,
                hsp=site.hsp,
                consumption_kwh_month=request.consumption,
                connection=request.connection,
                uf=site.uf,
                tusd_brl_kwh=tariff.tusd_brl_kwh,
                te_brl_kwh=tariff.te_brl_kwh,
                grid_request_date=today,
            ),
            params,
        )
        monthly_savings = result.first_year_savings_brl / 12
        return FinanceView(
            option=0,
            investment_brl=result.investment_brl,
            first_year_savings_brl=round(result.first_year_savings_brl, 2),
            monthly_savings_brl=round(monthly_savings, 2),
            simple_payback_years=result.simple_payback_years,
            discounted_payback_years=result.discounted_payback_years,
            npv_brl=round(result.npv_brl, 2),
            irr=result.irr,
            financing=financing_options(
                option.total_brl,
                monthly_savings,
                params.financing,
                on=today,
                stale_after_days=params.finance.financing_stale_after_days,
            ),
        )
