"""The health report: dependencies decide the status; freshness is reported beside them, never hiding it."""

from __future__ import annotations

import asyncio

from services.health import Freshness, HealthCheck


async def up() -> str:
    return "fine"


async def down() -> str:
    raise ConnectionError("refused")


def test_freshness_is_reported_and_a_lag_past_its_bound_does_not_degrade_the_service() -> None:
    stale = Freshness(lag_s=95.0, pending=12, within_bound=False)

    async def freshness() -> dict[str, Freshness]:
        return {"helio-catalog": stale}

    report = asyncio.run(HealthCheck({"index": up}, timeout_s=1, freshness=freshness).run())
    assert report.status == "ok"
    assert report.freshness == {"helio-catalog": stale}


def test_unreadable_freshness_is_left_out_and_a_dependency_down_still_degrades() -> None:
    async def freshness() -> dict[str, Freshness]:
        raise ConnectionError("database away")

    report = asyncio.run(HealthCheck({"index": up, "embedder": down}, timeout_s=1, freshness=freshness).run())
    assert (report.status, report.detail, report.freshness) == ("degraded", "down: embedder", {})
