"""Health of the search service: every dependency probed at once, each with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from pydantic import BaseModel, Field

# A probe returns a short description of what it found ("1234 points") or raises.
Probe = Callable[[], Awaitable[str]]


class DependencyStatus(BaseModel):
    status: Literal["up", "down"]
    detail: str = Field(description="What the probe found, or why it failed.")


class Freshness(BaseModel):
    lag_s: float = Field(
        description="Seconds the oldest catalog change not yet in the collection has waited."
    )
    pending: int = Field(description="Changes not yet in the collection.")
    within_bound: bool = Field(description="lag_s is within the platform's bound (60 s).")


# Reads each collection's freshness; raises when it cannot (the database away): the report then has none.
FreshnessProbe = Callable[[], Awaitable[dict[str, Freshness]]]


class HealthReport(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="ok when every dependency is up.")
    detail: str | None = Field(default=None, description="Which dependencies are down, when any is.")
    dependencies: dict[str, DependencyStatus]
    freshness: dict[str, Freshness] = Field(
        default_factory=dict,
        description="Per collection, how far it trails the catalog's prices and stock. A lag past its "
        "bound does not make the service degraded: search still answers, with older prices.",
    )


class HealthCheck:
    def __init__(
        self, probes: Mapping[str, Probe], timeout_s: float, freshness: FreshnessProbe | None = None
    ) -> None:
        self._probes = dict(probes)
        self._timeout_s = timeout_s
        self._freshness = freshness

    async def _read_freshness(self) -> dict[str, Freshness]:
        if self._freshness is None:
            return {}
        try:
            return await asyncio.wait_for(self._freshness(), self._timeout_s)
        except Exception:  # unknown, which the report shows as no entry: search itself may still be fine
            return {}

    async def _probe(self, probe: Probe) -> DependencyStatus:
        try:
            return DependencyStatus(status="up", detail=await asyncio.wait_for(probe(), self._timeout_s))
        except TimeoutError:
            return DependencyStatus(status="down", detail=f"no answer within {self._timeout_s:g} s")
        except Exception as error:  # a health check reports every failure instead of raising it
            return DependencyStatus(status="down", detail=str(error) or type(error).__name__)

    async def run(self) -> HealthReport:
        freshness, statuses = await asyncio.gather(
            self._read_freshness(), asyncio.gather(*(self._probe(probe) for probe in self._probes.values()))
        )
        dependencies = dict(zip(self._probes, statuses, strict=True))
        down = [name for name, status in dependencies.items() if status.status == "down"]
        return HealthReport(
            status="degraded" if down else "ok",
            detail=f"down: {', '.join(down)}" if down else None,
            dependencies=dependencies,
            freshness=freshness,
        )
