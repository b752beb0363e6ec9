"""A homologação case: the consumer unit, the system sold (catalog ids) and the catalog facts about it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from erp.records import ExternalId
from solar.equipment import as_number
from solar.parameters import ConnectionKind

INVERTER_CATEGORIES = ("inverter", "microinverter", "hybrid_inverter")


class ConsumerUnit(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: str = Field(min_length=1, max_length=40, description="Número da unidade consumidora (UC).")
    utility: str = Field(min_length=1, max_length=80, description="Distribuidora, e.g. CEMIG-D.")
    connection: ConnectionKind = Field(description="Ligação: mono, bi or tri.")
    phase_voltage_v: float | None = Field(
        default=None, description="Phase-to-neutral voltage, 127 or 220; None when not known."
    )
    uf: str | None = Field(default=None, min_length=2, max_length=2)
    shared_credits: bool = Field(
        default=False, description="Credits go to other units too (the list of receiving units is needed)."
    )


class SystemLine(BaseModel):
    product_id: str = Field(min_length=1, description="Catalog product id.")
    quantity: int = Field(ge=1, le=100_000)


class SystemSpec(BaseModel):
    modules: list[SystemLine] = Field(min_length=1, description="The PV modules of the order.")
    inverters: list[SystemLine] = Field(min_length=1, description="The inverters (or microinverters).")
    kwp: float = Field(gt=0, le=100_000, description="DC power of the system as sold, kWp.")

    @property
    def module_count(self) -> int:
        return sum(line.quantity for line in self.modules)


class Case(BaseModel):
    """What the integrator sends along with the files (the `case` field of the check request)."""

    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1, max_length=80, description="Our case id (the order id by default).")
    order_id: ExternalId | None = Field(default=None, description="The ERP order it comes from.")
    consumer_unit: ConsumerUnit
    system: SystemSpec


class Equipment(BaseModel):
    """What the catalog says about one product, as the rules need it; None = the catalog does not say."""

    model_config = ConfigDict(frozen=True)

    product_id: str
    category: str
    brand: str
    model: str
    power_w: float | None = Field(default=None, description="Module Pmax or inverter AC power, W.")
    ac_voltage_v: float | None = None
    phases: int | None = None
    inmetro_registro: str | None = Field(default=None, description="Inmetro registration number, if listed.")

    @property
    def is_inverter(self) -> bool:
        return self.category in INVERTER_CATEGORIES


# Spec keys a distributor feed may use for the Inmetro registration (none of today's feeds has one).
INMETRO_SPEC_KEYS = ("inmetro_registro", "inmetro_registration", "inmetro")


def equipment_from_specs(
    product_id: str, category: str, brand: str, model: str, specs: Mapping[str, Any]
) -> Equipment:
    """The canonical spec keys of `kernel.schemas.FeedRecord`, plus the Inmetro registration."""
    phases = as_number(specs.get("phases"))
    inmetro = next((str(specs[key]).strip() for key in INMETRO_SPEC_KEYS if specs.get(key)), None)
    return Equipment(
        product_id=product_id,
        category=category,
        brand=brand,
        model=model,
        power_w=as_number(specs.get("power_w")),
        ac_voltage_v=as_number(specs.get("ac_voltage_v")),
        phases=int(phases) if phases is not None else None,
        inmetro_registro=inmetro or None,
    )
