"""Time kit composition on a synthetic catalog of the real size: `python -m tests.solar.bench_kits`.

Prints the catalog size, the index build time and the p50/p95/max of `compose_kits` over a grid of needs
(sizes, roofs, connections, states), the way the recommend endpoint calls it with a prebuilt index.
"""

from __future__ import annotations

import argparse
import statistics
import time

from solar.connection import GridConnection
from solar.equipment import EquipmentIndex
from solar.kit_options import KitNeed
from solar.kits import compose_kits
from solar.parameters import ConnectionKind, SolarParameters, load_parameters
from tests.solar.synthetic import synthetic_catalog

SIZES_KWP = (1.2, 2.5, 4.0, 6.0, 8.5, 12.0, 20.0, 35.0, 60.0)
ROOFS = ("ceramico", "metalico", "fibrocimento", "laje", "solo")
CONNECTIONS: tuple[ConnectionKind, ...] = ("mono", "bi", "tri")
STATES = ("SC", "SP", "CE")


def needs(params: SolarParameters) -> list[KitNeed]:
    return [
        KitNeed(
            kwp=kwp, roof_type=roof, connection=GridConnection(kind=kind), site=params.site_temperatures(uf)
        )
        for kwp in SIZES_KWP
        for roof in ROOFS
        for kind in CONNECTIONS
        for uf in STATES
    ]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(index: EquipmentIndex, params: SolarParameters) -> tuple[list[float], int]:
    timings, options = [], 0
    for need in needs(params):
        started = time.perf_counter()
        result = compose_kits(index, need, params)
        timings.append((time.perf_counter() - started) * 1000)
        options += len(result.options)
    return timings, options


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=11_000)
    args = parser.parse_args()
    items = synthetic_catalog(args.products)
    params = load_parameters()
    started = time.perf_counter()
    index = EquipmentIndex.build(items)
    build_ms = (time.perf_counter() - started) * 1000
    timings, options = measure(index, params)
    print(
        f"{len(items)} products; index built in {build_ms:.0f} ms; {len(timings)} requests, "
        f"{options} options; compose_kits p50 {statistics.median(timings):.1f} ms, "
        f"p95 {percentile(timings, 0.95):.1f} ms, max {max(timings):.1f} ms"
    )


if __name__ == "__main__":
    main()
