"""Storefront search queries nobody has asked yet: the benchmark's workload.

    python -m scripts.queries [--count 3000] [--seed 7]   # one query per line

Each query is written from a product of the sample catalog `make run` loads (seed 42) the way
installers and customers type them: the Portuguese word for the category, the figure that matters
(module watts, inverter kW with a decimal comma or point, battery kWh, cable section), the brand in
lower case or as printed, sometimes the phases or the roof. Deterministic by seed; every query appears
once, so a benchmark that takes disjoint slices never meets the router's query cache.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable

from samples.feeds.draw import draw_products
from samples.feeds.market import SampleProduct

CATALOG_SEED = 42  # the sample `make run` and `make bench` load
PHASES = {1: ("monofásico", "mono", "220V"), 2: ("bifásico", "220V"), 3: ("trifásico", "trifasico", "380V")}
ROOFS = {
    "ceramico": "telhado cerâmico",
    "fibrocimento": "fibrocimento",
    "metalico": "telhado metálico",
    "solo": "solo",
    "laje": "laje",
}


def _kilo(watts: float, rng: random.Random) -> str:
    """5500 W as people write it: `5,5 kW`, `5.5kW`, `5500W`, `5,5k`."""
    kw = f"{watts / 1000:g}"
    return rng.choice((f"{kw.replace('.', ',')} kW", f"{kw}kW", f"{watts:.0f}W", f"{kw.replace('.', ',')}k"))


def _brand(product: SampleProduct, rng: random.Random) -> str:
    words = product.brand.split()
    return rng.choice((product.brand.lower(), product.brand, words[0].lower()))


def _module(p: SampleProduct, rng: random.Random) -> str:
    watts = f"{p.specs['power_w']:.0f}"
    return rng.choice(
        (
            f"painel {watts}W {_brand(p, rng)}",
            f"módulo {_brand(p, rng)} {watts}w",
            f"placa solar {watts} W",
            f"modulo fotovoltaico {watts}wp",
            f"painel solar {_brand(p, rng)} {watts}",
        )
    )


def _inverter(word: str, *, in_kw: bool = True) -> Callable[[SampleProduct, random.Random], str]:
    def query(p: SampleProduct, rng: random.Random) -> str:
        watts = float(p.specs["power_w"])
        power = _kilo(watts, rng) if in_kw else f"{watts:.0f}W"
        phases = rng.choice(PHASES.get(int(p.specs.get("phases") or 1), ("",)))
        return rng.choice(
            (
                f"{word} {power} {phases} {_brand(p, rng)}",
                f"{word} {_brand(p, rng)} {power}",
                f"{word} {power} {phases}",
            )
        )

    return query


def _battery(p: SampleProduct, rng: random.Random) -> str:
    kwh = f"{p.specs['capacity_kwh']:g}"
    return rng.choice(
        (
            f"bateria {kwh.replace('.', ',')} kWh {_brand(p, rng)}",
            f"bateria lítio {kwh}kwh",
            f"bateria {_brand(p, rng)} {kwh} kwh",
        )
    )


def _kit(p: SampleProduct, rng: random.Random) -> str:
    kwp = f"{p.specs['power_w'] / 1000:.2f}".rstrip("0").rstrip(".").replace(".", rng.choice((",", ".")))
    roof = ROOFS.get(str(p.specs.get("roof_type")), "")
    return rng.choice((f"kit {kwp} kWp {_brand(p, rng)}", f"kit solar {kwp}kwp {roof}", f"gerador {kwp} kWp"))


def _cable(p: SampleProduct, rng: random.Random) -> str:
    section = f"{p.specs['section_mm2']:g}".replace(".", ",")
    return rng.choice(
        (f"cabo solar {section}mm {p.specs.get('color', '')}", f"cabo {section} mm {_brand(p, rng)}")
    )


def _structure(p: SampleProduct, rng: random.Random) -> str:
    roof = ROOFS.get(str(p.specs.get("roof_type")), "telhado")
    return rng.choice(
        (f"estrutura {roof} {p.specs.get('module_slots', '')} módulos", f"suporte {roof} {_brand(p, rng)}")
    )


def _plain(*words: str) -> Callable[[SampleProduct, random.Random], str]:
    def query(p: SampleProduct, rng: random.Random) -> str:
        return f"{rng.choice(words)} {_brand(p, rng)} {p.model.split('-')[0].lower()}"

    return query


WRITERS: dict[str, Callable[[SampleProduct, random.Random], str]] = {
    "module": _module,
    "inverter": _inverter("inversor"),
    "hybrid_inverter": _inverter("inversor híbrido"),
    "microinverter": _inverter("microinversor", in_kw=False),
    "battery": _battery,
    "kit": _kit,
    "cable": _cable,
    "structure": _structure,
    "connector": _plain("conector mc4", "conector"),
    "string_box": _plain("string box", "stringbox"),
    "charge_controller": _plain("controlador de carga", "controlador"),
}


def storefront_queries(count: int = 3000, seed: int = 7) -> list[str]:
    """`count` distinct queries (fewer only if the catalog cannot give that many), in a shuffled order."""
    rng = random.Random(seed)
    products = [p for p in draw_products(CATALOG_SEED).products if p.category in WRITERS]
    found: dict[str, None] = {}
    for _ in range(count * 20):
        if len(found) == count:
            break
        product = rng.choice(products)
        query = " ".join(WRITERS[product.category](product, rng).split())
        found.setdefault(query, None)
    return list(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.queries", description=__doc__)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    sys.stdout.write("".join(f"{query}\n" for query in storefront_queries(args.count, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
