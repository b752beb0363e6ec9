"""The numbers a homologação check uses, in one typed object with defaults (DOMAIN.md §3, §5).

The legal limits come from Lei 14.300/2022; the DC/AC window and the tolerances are working values
(approx.): a deployment overrides them with `HomologacaoConfig.model_validate({...})`, no code edit.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from solar.parameters import ConnectionKind

MB = 1024 * 1024


class HomologacaoConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    micro_max_kw: float = Field(
        default=75.0, gt=0, description="Microgeração: AC power up to this (Lei 14.300)."
    )
    mini_max_kw: float = Field(
        default=3000.0,
        gt=0,
        description="Minigeração of non-dispatchable sources (PV without storage): AC power up to this.",
    )
    inmetro_required_up_to_kw: float = Field(
        default=75.0,
        gt=0,
        description="Inverters up to this AC power need Inmetro registration (Portaria 140).",
    )
    dc_ac_ratio_min: float = Field(
        default=1.0, gt=0, description="Lowest module kWp / inverter AC kW accepted."
    )
    dc_ac_ratio_max: float = Field(
        default=1.35, gt=0, description="Highest module kWp / inverter AC kW accepted."
    )
    ac_voltage_tolerance: float = Field(
        default=0.05, ge=0, lt=0.5, description="Inverter AC voltage within this fraction of a grid voltage."
    )
    inverter_phases_by_connection: dict[ConnectionKind, list[int]] = Field(
        default={"mono": [1], "bi": [1, 2], "tri": [1, 2, 3]},
        description="Inverter phases each connection accepts (1-phase 220 V between phases is usual).",
    )
    power_tolerance: float = Field(
        default=0.02,
        ge=0,
        lt=1,
        description="kWp written in a document may differ from the order's by this fraction.",
    )
    max_file_bytes: int = Field(default=20 * MB, gt=0, description="Largest file accepted, bytes.")
    max_files: int = Field(default=20, ge=1, description="Most files in one package.")
    max_pages: int = Field(
        default=200, ge=1, description="PDFs with more pages are refused (not a package document)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> HomologacaoConfig:
        if self.dc_ac_ratio_min > self.dc_ac_ratio_max:
            raise ValueError("dc_ac_ratio_min is above dc_ac_ratio_max")
        if self.micro_max_kw >= self.mini_max_kw:
            raise ValueError("micro_max_kw must be below mini_max_kw")
        return self
