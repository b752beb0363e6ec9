"""Request and response models of `POST /store/helio/recommend`."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from solar import Check, FinancingOption

MAX_CONSUMPTION_KWH_MONTH = 1_000_000.0
DEFAULT_ROOF_TYPE = "ceramico"


class ConsumptionFields(BaseModel):
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

    def _check_consumption(self, required: bool) -> None:
        if self.consumption_kwh_month is not None and self.monthly_kwh is not None:
            raise ValueError("give either consumption_kwh_month or monthly_kwh (12 values), not both")
        if required and self.consumption_kwh_month is None and self.monthly_kwh is None:
            raise ValueError("give either consumption_kwh_month or monthly_kwh (12 values)")
        if self.monthly_kwh is not None:
            if any(not 0 <= month <= MAX_CONSUMPTION_KWH_MONTH for month in self.monthly_kwh):
                raise ValueError(f"monthly_kwh values must be between 0 and {MAX_CONSUMPTION_KWH_MONTH:,.0f}")
            if sum(self.monthly_kwh) <= 0:
                raise ValueError("monthly_kwh must add up to more than 0")

    @property
    def consumption(self) -> float | list[float] | None:
        return self.monthly_kwh if self.monthly_kwh is not None else self.consumption_kwh_month


class PlaceFields(BaseModel):
    city: str | None = Field(default=None, min_length=1, max_length=100, description="City, with `uf`.")
    uf: str | None = Field(default=None, min_length=2, max_length=30, description="State: `SP` or its name.")
    lat: float | None = Field(default=None, ge=-90, le=90, description="Latitude, with `lon`.")
    lon: float | None = Field(default=None, ge=-180, le=180, description="Longitude, with `lat`.")
    utility: str | None = Field(
        default=None, max_length=100, description="Utility by name (`CEMIG-D`) or CNPJ; default: the state's."
    )
    roof_type: str | None = Field(
        default=None,
        max_length=40,
        description=f"ceramico, metalico, fibrocimento, laje, solo; default {DEFAULT_ROOF_TYPE}.",
    )

    @property
    def has_place(self) -> bool:
        return (self.city is not None and self.uf is not None) or (
            self.lat is not None and self.lon is not None
        )


class RecommendRequest(ConsumptionFields, PlaceFields):
    model_config = ConfigDict(extra="forbid")

    connection: Literal["mono", "bi", "tri"] = Field(
        description="Grid connection: mono-, bi- or three-phase."
    )
    budget_brl: float | None = Field(default=None, gt=0, description="Only options up to this total.")

    @model_validator(mode="after")
    def _one_consumption_and_one_place(self) -> RecommendRequest:
        self._check_consumption(required=True)
        if not self.has_place:
            raise ValueError("give the place as city and uf, or as lat and lon")
        return self

    @property
    def monthly_consumption(self) -> float | list[float]:
        consumption = self.consumption
        assert consumption is not None
        return consumption


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
    investment_brl: float = Field(description="Equipment plus installation.")
    equipment_brl: float
    installation_brl: float = Field(description="Labour, design, ART and paperwork (a parameter per Wp).")
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
