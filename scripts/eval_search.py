"""`make eval`, catalog search: nDCG@10 and P@5 on the relevance set (`catalog/eval/relevance.yaml`).

    python -m scripts.eval_search [--split all|dev|test] [--feeds sample_feeds] [--data DIR] [--details FILE]

Builds the catalog of the sample feeds (`make sample`'s, by default) into a scratch data folder with the
project's own jobs (ETL, embedding), asks every query of the set through `CatalogSearch` in this process,
as the shipped CPU profile configures it, and prints one JSON object: per split, nDCG@10 and P@5 over the
judged queries, per category too, and the queries flagged because nothing in the catalog meets their
intent; for dev, its ten worst queries. Dev and test are reported apart, never pooled: the targets are on
test, and any tuning looks at dev only.

Grading (ESCI: exact, substitute, irrelevant). A query is labelled by its intent, never by product ids,
and every product is graded from its stored fields (category, brand, model, specs, stock) when the eval
runs, so the labels hold for any sample the generator writes:
- irrelevant (gain 0): another category; or a hard constraint broken — phases, AC voltage or roof type
  other than asked (a product that cannot be connected or mounted), a size (power, capacity, current)
  beyond ±25 % of the one asked; for a brand typed alone (no category), another brand;
- exact (gain 1.0): every stated constraint met — power within ±2 % for a module, ±5 % for the rest;
  capacity within ±5 %; voltage within ±10 % (a "48 V" battery is 48 or 51.2 V); the rest equal; a
  kit is of a brand when it is sold under it or its modules or inverter are of it;
- substitute (gain 0.1, the Shopping Queries Dataset's gain for S): right category and nothing broken,
  but a stated constraint missed: another brand or model, a size off the exact window but within ±25 %,
  another section, length, input count, chemistry, cell technology or code feature (`model_has`), out
  of stock when "em estoque" was asked; and a field the product does not state (it cannot be proven to
  fit, nor not to).
Complements (a structure for "painel 550w") count as irrelevant.

nDCG@10 = DCG@10 / ideal DCG@10, with DCG = Σ gain_i / log2(i + 1) over the first ten results (linear
gains) and the ideal from the catalog itself: its best ten grades for the query, whether search found
them or not. P@5 = exact products among the first five / min(5, exact products in the catalog): only
exact counts as relevant (ESCI practice), and a query whose catalog holds three exact products scores 1
by showing all three first. A query whose intent no product of the catalog meets exactly is flagged
(`no_exact_in_catalog`, with how many substitutes there are) and left out of both means: a query
cannot be judged on products that do not exist (a 550 W module, before the sample sells one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from common.settings import PROJECT_ROOT
from kernel.schemas import Category
from kernel.text import fold

RELEVANCE_SET = PROJECT_ROOT / "catalog" / "eval" / "relevance.yaml"
Split = Literal["dev", "test"]
Grade = Literal["E", "S", "I"]
EXACT: Grade = "E"
SUBSTITUTE: Grade = "S"
IRRELEVANT: Grade = "I"
GAINS: dict[Grade, float] = {EXACT: 1.0, SUBSTITUTE: 0.1, IRRELEVANT: 0.0}
NDCG_AT = 10
PRECISION_AT = 5
TARGETS = {"ndcg_at_10": 0.90, "p_at_5": 0.90}  # on the test split
NEAR = 0.25  # a size (power, capacity, current) within ±25 % of the one asked is a substitute
POWER_EXACT = {"module": 0.02}  # relative; 0.05 for the other categories
DEFAULT_POWER_EXACT = 0.05
ROOF_TYPES = Literal["ceramico", "metalico", "fibrocimento", "laje", "solo"]
_ALNUM = re.compile(r"[a-z0-9]+")


class Intent(BaseModel):
    """What a query asks for; a field left out is not asked (see catalog/eval/relevance.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Category | None = None  # None only for a brand typed alone
    brand: str | None = None
    model: str | None = None
    model_has: str | None = None
    power_w: float | None = Field(default=None, gt=0)
    power_tolerance: float | None = Field(default=None, gt=0, lt=1)
    capacity_kwh: float | None = Field(default=None, gt=0)
    voltage_v: float | None = Field(default=None, gt=0)
    current_a: float | None = Field(default=None, gt=0)
    section_mm2: float | None = Field(default=None, gt=0)
    length_m: float | None = Field(default=None, gt=0)
    string_inputs: int | None = Field(default=None, gt=0)
    max_dc_voltage_v: float | None = Field(default=None, gt=0)
    phases: Literal[1, 2, 3] | None = None
    ac_voltage_v: float | None = Field(default=None, gt=0)
    roof_type: ROOF_TYPES | None = None
    chemistry: Literal["lifepo4", "lead_acid"] | None = None
    technology: Literal["mono-c-si", "multi-c-si", "thin-film", "cdte"] | None = None
    in_stock: bool | None = None


class LabelledQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    split: Split
    q: str = Field(min_length=1)
    intent: Intent
    note: str | None = None

    @property
    def category(self) -> str:
        return self.intent.category or "brand_only"


def load_queries(path: Path = RELEVANCE_SET, split: str = "all") -> list[LabelledQuery]:
    queries = [LabelledQuery.model_validate(item) for item in yaml.safe_load(path.read_text("utf-8"))]
    return [query for query in queries if split == "all" or query.split == split]


@dataclass(frozen=True)
class Size:
    """A numeric constraint: exact within `exact` (relative), a substitute within `near` (None: any value)."""

    spec: str
    exact: float
    near: float | None


# Intent field -> the spec it is checked against. Power's exact window depends on the category.
SIZES: dict[str, Size] = {
    "power_w": Size("power_w", DEFAULT_POWER_EXACT, NEAR),
    "capacity_kwh": Size("capacity_kwh", 0.05, NEAR),
    "current_a": Size("max_dc_current_a", 0.0, NEAR),
    "voltage_v": Size("voltage_v", 0.10, None),
    "section_mm2": Size("section_mm2", 0.0, None),
    "length_m": Size("length_m", 0.0, None),
    "string_inputs": Size("string_inputs", 0.0, None),
    "max_dc_voltage_v": Size("max_dc_voltage_v", 0.0, None),
}
# Fields a product must match exactly or be irrelevant: it could not be connected or mounted.
HARD = ("phases", "ac_voltage_v", "roof_type")
# Fields whose other value makes a substitute.
SOFT = ("chemistry", "technology")


def _key(text: str) -> str:
    return "".join(_ALNUM.findall(fold(text)))


def _within(value: float, target: float, tolerance: float) -> bool:
    return abs(value - target) <= tolerance * target + 1e-9


def _brands(product: Mapping[str, Any]) -> set[str]:
    """The brand a product is sold under; a kit's also its modules' and its inverter's."""
    brands = {_key(product["brand"])}
    if product["category"] == "kit":
        components = (product.get("specs") or {}).get("components") or []
        brands |= {_key(c["brand"]) for c in components if c.get("category") in ("module", "inverter")}
    return brands


def grade(intent: Intent, product: Mapping[str, Any]) -> Grade:
    """The ESCI grade of a catalog product (a `catalog_store.catalog_for_index` row) for an intent."""
    specs = product.get("specs") or {}
    if intent.category is None:  # a brand typed alone: nothing else to be a substitute for
        return EXACT if intent.brand is not None and _key(intent.brand) in _brands(product) else IRRELEVANT
    if product["category"] != intent.category:
        return IRRELEVANT
    missed = False
    for name in HARD:
        asked = getattr(intent, name)
        if asked is None:
            continue
        value = specs.get(name)
        if value is None:
            missed = True
        elif (value != asked) if isinstance(asked, str) else not _within(float(value), asked, 0.01):
            return IRRELEVANT
    for name, size in SIZES.items():
        asked = getattr(intent, name)
        if asked is None:
            continue
        value = specs.get(size.spec)
        exact = size.exact
        if name == "power_w":
            exact = intent.power_tolerance or POWER_EXACT.get(intent.category, DEFAULT_POWER_EXACT)
        if value is None:
            missed = True
        elif not _within(float(value), asked, exact):
            if size.near is not None and not _within(float(value), asked, size.near):
                return IRRELEVANT
            missed = True
    for name in SOFT:
        asked = getattr(intent, name)
        missed |= asked is not None and specs.get(name) != asked
    if intent.brand is not None:
        missed |= _key(intent.brand) not in _brands(product)
    if intent.model is not None:
        missed |= _key(intent.model) != _key(product["model"])
    if intent.model_has is not None:
        missed |= re.search(intent.model_has, fold(product["model"])) is None
    if intent.in_stock is not None:
        missed |= bool(product.get("in_stock")) != intent.in_stock
    return SUBSTITUTE if missed else EXACT


def dcg(gains: Iterable[float]) -> float:
    return sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains))


def ndcg_at(k: int, returned: Sequence[Grade], catalog: Iterable[Grade]) -> float:
    """DCG of the first k returned over the ideal DCG of the catalog's best k; 0 when nothing is ideal."""
    ideal = dcg(sorted((GAINS[g] for g in catalog), reverse=True)[:k])
    return dcg(GAINS[g] for g in returned[:k]) / ideal if ideal > 0 else 0.0


def precision_at(k: int, returned: Sequence[Grade], exact_in_catalog: int) -> float:
    """Exact results among the first k over min(k, exact products in the catalog)."""
    if exact_in_catalog == 0:
        return 0.0
    return sum(g == EXACT for g in returned[:k]) / min(k, exact_in_catalog)


@dataclass(frozen=True)
class Judged:
    query: LabelledQuery
    returned: list[Grade]  # the first results' grades, in order
    exact_in_catalog: int
    substitutes_in_catalog: int
    ndcg: float
    precision: float

    @property
    def flagged(self) -> bool:
        return self.exact_in_catalog == 0


def judge(
    query: LabelledQuery, returned_ids: Sequence[str], catalog: Mapping[str, Mapping[str, Any]]
) -> Judged:
    """Grades of what the search returned (ids of `catalog`'s products), against every product's grade."""
    everything = [grade(query.intent, product) for product in catalog.values()]
    returned = [
        grade(query.intent, catalog[product_id]) if product_id in catalog else IRRELEVANT
        for product_id in returned_ids
    ]
    exact = everything.count(EXACT)
    return Judged(
        query=query,
        returned=returned,
        exact_in_catalog=exact,
        substitutes_in_catalog=everything.count(SUBSTITUTE),
        ndcg=ndcg_at(NDCG_AT, returned, everything),
        precision=precision_at(PRECISION_AT, returned, exact),
    )


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 3) if values else None


def _figures(judged: Sequence[Judged]) -> dict[str, Any]:
    return {
        "queries": len(judged),
        "ndcg_at_10": _mean([j.ndcg for j in judged]),
        "p_at_5": _mean([j.precision for j in judged]),
    }


def split_report(judged: Sequence[Judged], *, worst: int = 0) -> dict[str, Any]:
    """Means over the judged queries (flagged ones listed apart), and the `worst` lowest where asked: for
    dev, whose failures are there to be looked at, never for test."""
    counted = [j for j in judged if not j.flagged]
    categories = sorted({j.query.category for j in counted})
    figures = {
        "asked": len(judged),
        **_figures(counted),
        "by_category": {c: _figures([j for j in counted if j.query.category == c]) for c in categories},
        "no_exact_in_catalog": [
            {"id": j.query.id, "q": j.query.q, "substitutes": j.substitutes_in_catalog}
            for j in judged
            if j.flagged
        ],
    }
    if worst:
        lowest = sorted(counted, key=lambda j: (j.ndcg, j.precision, j.query.id))[:worst]
        figures["worst"] = [
            {
                "id": j.query.id,
                "q": j.query.q,
                "ndcg_at_10": round(j.ndcg, 3),
                "p_at_5": round(j.precision, 2),
            }
            for j in lowest
        ]
    return figures


def report(judged: Sequence[Judged]) -> dict[str, Any]:
    splits: dict[str, Any] = {
        split: split_report([j for j in judged if j.query.split == split], worst=10 if split == "dev" else 0)
        for split in ("dev", "test")
        if any(j.query.split == split for j in judged)
    }
    test = splits.get("test")
    return {
        "relevance_set": str(RELEVANCE_SET.relative_to(PROJECT_ROOT)),
        "queries": len(judged),
        "grading": {
            "gains": GAINS,
            "relevant_at_5": "exact",
            "flagged": "no exact product in the catalog: left out of the means",
        },
        **splits,
        "targets": {
            "split": "test",
            **TARGETS,
            "met": None
            if test is None or test["queries"] == 0
            else all(test[name] >= target for name, target in TARGETS.items()),
        },
    }


def detail(judged: Judged, titles: Sequence[str], read_as: str | None) -> dict[str, Any]:
    return {
        "id": judged.query.id,
        "split": judged.query.split,
        "q": judged.query.q,
        "read_as": read_as,
        "intent": judged.query.intent.model_dump(exclude_none=True),
        "ndcg_at_10": round(judged.ndcg, 3),
        "p_at_5": round(judged.precision, 2),
        "exact_in_catalog": judged.exact_in_catalog,
        "substitutes_in_catalog": judged.substitutes_in_catalog,
        "results": [f"{g} {title}" for g, title in zip(judged.returned, titles, strict=True)],
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.eval_search", description=__doc__)
    parser.add_argument("--split", choices=["all", "dev", "test"], default="all")
    parser.add_argument("--feeds", type=Path, default=PROJECT_ROOT / "sample_feeds", help="`make sample`")
    parser.add_argument(
        "--data", type=Path, help="build into this folder and keep it (reruns are incremental)"
    )
    parser.add_argument(
        "--details", type=Path, help="write one JSON line per query here (failure analysis: --split dev)"
    )
    args = parser.parse_args()
    if not (args.feeds / "manifest.json").is_file():
        parser.error(f"no sample feeds in {args.feeds}: run `make sample` first")

    from catalog.query import SearchParams
    from common import catalog_store
    from ray_jobs.progress import step
    from scripts.scratch_catalog import scratch_catalog

    queries = load_queries(split=args.split)
    with scratch_catalog(args.data, feeds=args.feeds.resolve(), prefix="ysh-eval-search-") as built:
        with built.resources.connect() as conn:
            catalog = {row["id"]: row for row in catalog_store.catalog_for_index(conn)}
        search = built.catalog_search()

        async def ask_all() -> list[Any]:
            return [await search.search(SearchParams(q=query.q, limit=NDCG_AT)) for query in queries]

        with step(f"search {len(queries)} queries"):
            pages = asyncio.run(ask_all())
    with step(f"grade against {len(catalog)} products"):
        judged = [
            judge(query, [result.id for result in page.results], catalog)
            for query, page in zip(queries, pages, strict=True)
        ]
    if args.details:
        args.details.write_text(
            "".join(
                json.dumps(detail(j, [r.title for r in page.results], page.did_you_mean), ensure_ascii=False)
                + "\n"
                for j, page in zip(judged, pages, strict=True)
            ),
            encoding="utf-8",
        )
    print(json.dumps({"eval": "catalog search", **report(judged)}, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
