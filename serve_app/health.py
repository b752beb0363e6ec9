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


class HealthReport(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="ok when every dependency is up.")
    detail: str | None = Field(default=None, description="Which dependencies are down, when any is.")
    dependencies: dict[str, DependencyStatus]


class HealthCheck:
    def __init__(self, probes: Mapping[str, Probe], timeout_s: float) -> None:
        self._probes = dict(probes)
        self._timeout_s = timeout_s

    async def _probe(self, probe: Probe) -> DependencyStatus:
        try:
            return DependencyStatus(status="up", detail=await asyncio.wait_for(probe(), self._timeout_s))
        except TimeoutError:
            return DependencyStatus(status="down", detail=f"no answer within {self._timeout_s:g} s")
        except Exception as error:  # a health check reports every failure instead of raising it
            return DependencyStatus(status="down", detail=str(error) or type(error).__name__)

    async def run(self) -> HealthReport:
        statuses = await asyncio.gather(*(self._probe(probe) for probe in self._probes.values()))
        dependencies = dict(zip(self._probes, statuses, strict=True))
        down = [name for name, status in dependencies.items() if status.status == "down"]
        return HealthReport(
            status="degraded" if down else "ok",
            detail=f"down: {', '.join(down)}" if down else None,
            dependencies=dependencies,
        )
