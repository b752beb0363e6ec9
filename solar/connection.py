"""The customer's grid connection (mono-, bi- or three-phase) and what an inverter needs to plug into it."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

from solar.parameters import ConnectionKind, ElectricalParameters

# Low-voltage systems in Brazil: phase-to-neutral 127 V (line 220 V) or 220 V (line 380 V).
PHASE_VOLTAGES_V = (127.0, 220.0)


class GridConnection(BaseModel):
    """`kind` decides the minimum bill and the inverter phases; `phase_voltage_v` (127 or 220, phase to
    neutral) the AC voltages on offer. Unknown voltage: any low-voltage system is assumed possible."""

    model_config = ConfigDict(frozen=True)

    kind: ConnectionKind
    phase_voltage_v: float | None = Field(default=None, description="Phase-to-neutral voltage: 127 or 220.")

    def available_ac_voltages(self) -> tuple[float, ...]:
        """Voltages an inverter may be connected at: phase-neutral, and between phases when there are two
        or more phases (line voltage = phase voltage × √3, rounded the way utilities name it)."""
        phase_voltages = PHASE_VOLTAGES_V if self.phase_voltage_v is None else (self.phase_voltage_v,)
        voltages = set(phase_voltages)
        if self.kind != "mono":
            voltages |= {_nominal_line_voltage(v) for v in phase_voltages}
        return tuple(sorted(voltages))


def _nominal_line_voltage(phase_voltage_v: float) -> float:
    line = phase_voltage_v * math.sqrt(3)
    return float(round(line / 10) * 10)  # 127 × √3 = 219.97 → 220; 220 × √3 = 381.05 → 380


def ac_voltage_ok(inverter_ac_v: float, connection: GridConnection, params: ElectricalParameters) -> bool:
    tolerance = params.ac_voltage_tolerance
    return any(abs(inverter_ac_v - v) <= v * tolerance for v in connection.available_ac_voltages())


def phases_ok(inverter_phases: int, connection: GridConnection, params: ElectricalParameters) -> bool:
    return inverter_phases in params.inverter_phases_by_connection.get(connection.kind, [])
