"""Kit recommendation end to end, without Serve or HTTP: site → sizing → tariff → kits → finance.

Every number comes from `solar/` (sizing, kit composition, finance, financing); this module only looks
things up, wires the steps together and shapes the response. The catalog snapshot (an `EquipmentIndex`
of in-stock parts) is built once and rebuilt every `refresh_s` in a background thread, so a new catalog
shows up without a restart; while none could be loaded the endpoint answers 503.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from kernel.errors import DependencyUnavailable, InvalidRequest
from kernel.schemas import Offer, Product
from services.recommend_models import (
    DEFAULT_ROOF_TYPE,
    BomLine,
    FinanceView,
    KitOptionView,
    PlaceFields,
    RecommendRequest,
    RecommendResponse,
    SiteView,
    SizingView,
    TariffView,
)
from services.tariff_book import TariffBook, UnknownUtility
from solar import (
    Atlas,
    EquipmentIndex,
    FinanceInput,
    GridConnection,
    KitNeed,
    KitOption,
    ResidentialTariff,
    SizingResult,
    SolarParameters,
    UnknownPlace,
    analyse_investment,
    capitals_atlas,
    catalog_items,
    compose_kits,
    financing_options,
    load_parameters,
    size_system,
    tariff_with_taxes,
)
from solar.parameters import ConnectionKind

log = logging.getLogger(__name__)

CATALOG_DATABASE = "catalog database"
_UNREAD = object()  # no build's version known: the next check rebuilds

CatalogLoader = Callable[[], tuple[list[Product], list[Offer]]]
TariffLoader = Callable[[date], dict[str, ResidentialTariff]]


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


def sizing_view(sizing: SizingResult) -> SizingView:
    return SizingView(
        kwp=round(sizing.kwp_needed, 3),
        hsp=sizing.hsp,
        pr=sizing.performance_ratio,
        generation_kwh_month=round(sizing.expected_generation_kwh_month, 1),
        consumption_kwh_month=round(sizing.consumption_kwh_month, 1),
        minimum_bill_kwh=sizing.minimum_bill_kwh,
        offset_kwh_month=round(sizing.offset_kwh_month, 1),
    )


# ---------------------------------------------------------------- the orchestration


class KitRecommender:
    """Plain class: the router holds one per replica; tests call it directly."""

    def __init__(
        self,
        *,
        load_catalog: CatalogLoader,
        max_options: int,
        load_tariffs: TariffLoader | None = None,
        params: SolarParameters | None = None,
        atlas: Atlas | None = None,
        atlas_source: str = "solar/data/irradiancia-capitais.csv (state capitals, approximate)",
        tariffs: TariffBook | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        self._load_catalog = load_catalog
        self._load_tariffs = load_tariffs
        self._max_options = max_options
        self.params = params or load_parameters()
        self._atlas = atlas or capitals_atlas()
        self._atlas_source = atlas_source
        self._today = today
        self._tariffs = tariffs or TariffBook.from_sample(today())
        self._snapshot: CatalogSnapshot | None = None
        self._load_error = "not loaded yet"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def snapshot(self) -> CatalogSnapshot | None:
        return self._snapshot

    def refresh(self) -> bool:
        """Load the catalog (and the tariffs) and swap them in; on failure keep the previous ones."""
        if self._load_tariffs is not None:
            today = self._today()
            try:
                self._tariffs = TariffBook.from_store(self._load_tariffs(today), today)
            except Exception as error:  # keep the tariffs we have: the catalog may still load
                log.warning("tariffs not reloaded: %s", f"{type(error).__name__}: {error}".splitlines()[0])
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

    def start_refreshing(
        self, check_s: float, version: Callable[[], object] | None = None, max_age_s: float = 300.0
    ) -> None:
        """Build the snapshot now, then rebuild it in a daemon thread, checking every `check_s`: when
        `version` (a cheap read of what the snapshot is built from: the offers change feed) moved since
        the last build, or the build is `max_age_s` old (tariffs, a new day); without `version`, at every
        check. A failed build (the database away) is retried at each check."""

        def read_version() -> object:
            if version is None:
                return None
            try:
                return version()
            except Exception as error:  # the database away: keep the snapshot, ask again later
                log.warning("catalog version not read: %s", f"{type(error).__name__}: {error}")
                return _UNREAD

        def loop(built: object) -> None:
            built_at = time.monotonic()
            while not self._stop.wait(check_s):
                current = read_version()
                if current is _UNREAD:
                    continue
                if version is not None and current == built and time.monotonic() - built_at < max_age_s:
                    continue
                if self.refresh():
                    built, built_at = current, time.monotonic()

        # The version is read before the build, so a change during the build shows at the next check; and
        # the loop knows what is built, instead of rebuilding the same catalog at its first check (≈0.5 s
        # of a router's CPU under traffic, once per replica start).
        first = read_version()
        if not self.refresh():
            first = _UNREAD
        self._thread = threading.Thread(target=loop, args=(first,), name="kit-catalog-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def place_in(self, text: str) -> tuple[str, str] | None:
        """(city, uf) of the place a question names, if the atlas knows it."""
        site = self._atlas.mentioned_in(text)
        return None if site is None else (site.name, site.uf)

    def locate(self, place: PlaceFields) -> SiteView:
        """The site of a city/UF, or the nearest one to lat/lon; 422 for an unknown city."""
        distance_km = None
        if place.city is not None and place.uf is not None:
            try:
                site = self._atlas.find(place.city, place.uf)
            except UnknownPlace as error:
                raise InvalidRequest(str(error)) from None
        else:
            assert place.lat is not None and place.lon is not None
            site, distance = self._atlas.nearest(place.lat, place.lon)
            distance_km = round(distance, 1)
        return SiteView(
            name=site.name,
            uf=site.uf,
            lat=site.lat,
            lon=site.lon,
            hsp=site.hsp,
            distance_km=distance_km,
            source=self._atlas_source,
        )

    def tariff(self, site: SiteView, utility: str | None) -> TariffView:
        """The tariff of the utility asked for, or the state's default; 422 for an unknown utility."""
        try:
            tariff, source = self._tariffs.tariff_for(site.uf, utility)
        except UnknownUtility as error:
            raise InvalidRequest(str(error)) from None
        return TariffView(
            utility=tariff.agent,
            cnpj=tariff.cnpj or None,
            tusd_brl_kwh=round(tariff.tusd_brl_kwh, 5),
            te_brl_kwh=round(tariff.te_brl_kwh, 5),
            tariff_brl_kwh=round(tariff.tariff_brl_kwh, 5),
            with_taxes_brl_kwh=round(tariff_with_taxes(tariff.tariff_brl_kwh, site.uf, self.params), 5),
            valid_from=tariff.valid_from,
            valid_to=tariff.valid_to,
            source=source,
        )

    def current_snapshot(self) -> CatalogSnapshot:
        snapshot = self._snapshot
        if snapshot is None:
            raise DependencyUnavailable(CATALOG_DATABASE, self._load_error)
        return snapshot

    def recommend(self, request: RecommendRequest) -> RecommendResponse:
        params = self.params
        site = self.locate(request)
        tariff_view = self.tariff(site, request.utility)
        snapshot = self.current_snapshot()

        sizing = size_system(request.monthly_consumption, site.hsp, request.connection, params.sizing)
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

        finance = None
        if options:
            best = options[0]
            finance = self.finance(
                best.total_brl,
                best.dc_power_w,
                request.monthly_consumption,
                request.connection,
                site,
                tariff_view,
            )
        return RecommendResponse(
            site=site,
            sizing=sizing_view(sizing),
            tariff=tariff_view,
            options=options,
            finance=finance,
            reason=reason,
            notes=notes,
        )

    def finance(
        self,
        equipment_brl: float,
        dc_power_w: float,
        consumption: float | list[float],
        connection: ConnectionKind,
        site: SiteView,
        tariff: TariffView,
    ) -> FinanceView:
        params, today = self.params, self._today()
        installation_brl = round(params.finance.installation_brl(dc_power_w), 2)
        result = analyse_investment(
            FinanceInput(
                investment_brl=equipment_brl + installation_brl,
                system_kwp=dc_power_w / 1000,
                hsp=site.hsp,
                consumption_kwh_month=consumption,
                connection=connection,
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
            equipment_brl=equipment_brl,
            installation_brl=installation_brl,
            financing=financing_options(
                result.investment_brl,
                monthly_savings,
                params.financing,
                on=today,
                stale_after_days=params.finance.financing_stale_after_days,
            ),
        )
