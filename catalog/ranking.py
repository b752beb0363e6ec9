"""Final ordering of catalog search hits: the fused retrieval score plus small, explainable boosts.

score = relevance × (fused score / best fused score)
      + power_closeness × closeness of power_w to the target (1 within the same-size window, then a step down)
      + size_closeness × the same for each other size the query states and the title spells (kWh, A, V,
        mm², m, inputs, module slots: the payload has no field for them)
      + kind for each kind the query names and the title states (MPPT, monocrystalline, lithium)
      + exact_code when the query names the product's whole model code or SKU
      + brand (a kit's also from its title), category when they match what the query asked for
      ± phases, roof_type when the product's match (or contradict) the query's
      + in_stock
A query that is only a model code ranks the rest of the page by the named product's category and power.
Ties go to the cheaper offer, then to the id, so the order never depends on the engine's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict

from catalog.lexical import WORD, Quantity, quantities
from catalog.query import BRAND_IN_TITLE_CATEGORIES, QueryPlan, counts, kinds, roof_in
from kernel.text import fold
from kernel.vectors import Hit

_WORD_RE = re.compile(WORD)
_HAS_DIGIT_RE = re.compile(r"\d")
_ALNUM_RE = re.compile(r"[a-z0-9]+")
_SPACED_AMPERES_RE = re.compile(r"(\d) a\b")


@dataclass(frozen=True)
class RankingWeights:
    relevance: float = 1.0
    power_closeness: float = 1.0
    size_closeness: float = (
        1.0  # per stated size the title spells: capacity, current, voltage, section, length
    )
    exact_code: float = 1.0  # more than any other boost: naming a model code is the clearest intent
    brand: float = 1.0  # another brand is a substitute at best, like a size off the one asked
    category: float = 1.5  # another category is no answer at all: above brand, size and kind together
    # A phase or roof mismatch cannot be connected or mounted at all: worth more than any size or brand,
    # hence a penalty as well as a boost.
    phases: float = 1.0
    roof_type: float = 1.0
    kind: float = 0.5  # per kind the query names and the title states (MPPT, monocrystalline, lithium)
    in_stock: float = 0.2


DEFAULT_WEIGHTS = RankingWeights()
MIN_CODE_CHARS = 4  # "550" or "G2" in a query is a power or a noise word, not a product's name
# Power within this share of the one asked is the size asked for (datasheets round, and a 545 W module
# is not what "550 W" asks for while a 5.06 kW inverter is "5 kW"): full credit inside, a step down past it.
SAME_POWER = {"module": 0.02}
DEFAULT_SAME_POWER = 0.05
NEAR_CREDIT = 0.3  # the most a size outside its same-size window earns, halving at its near edge


@dataclass(frozen=True)
class SizeWindow:
    same: float  # relative distance still the size asked for
    near: float  # relative distance still worth offering as a substitute


# Sizes read from titles, by canonical unit: a battery's 9.6 kWh is "10 kWh", a 48 V one may be 51.2 V;
# a cable's section or length, a controller's current are exact ratings.
TITLE_SIZE_WINDOWS: dict[str, SizeWindow] = {
    "wh": SizeWindow(0.05, 0.25),
    "v": SizeWindow(0.10, 0.10),
    "a": SizeWindow(0.0, 0.25),
    "mm": SizeWindow(0.0, 0.0),
    "m": SizeWindow(0.0, 0.0),
    "inputs": SizeWindow(0.0, 0.0),
    "modules": SizeWindow(0.0, 0.0),
}


class SearchResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    sku: str | None
    title: str
    category: str
    brand: str
    model: str
    power_w: float | None
    price_brl: float | None
    distributors: list[str]
    in_stock: bool
    score: float
    exact_match: bool = False  # the query names this product's whole model code or SKU: ranked first


# Every search re-checks the same catalog's model codes and SKUs (~2 per product): remember their keys.
@lru_cache(maxsize=1 << 16)
def _code_key(code: str) -> str | None:
    """A model code or SKU as the query would spell it, or None when it is too vague to count as named."""
    key = " ".join(_WORD_RE.findall(fold(code)))
    return key if len(key) >= MIN_CODE_CHARS and _HAS_DIGIT_RE.search(key) else None


def _names_code(plan: QueryPlan, payload: dict[str, Any]) -> bool:
    for code in (payload.get("model"), payload.get("sku")):
        key = _code_key(code) if code else None
        if key is not None and f" {key} " in plan.folded_words:
            return True
    return False


def _closeness(target: float, value: float, window: SizeWindow) -> float:
    """1 within the same-size window, then at most NEAR_CREDIT, halving linearly to the near edge, 0 past it:
    a linear fall over the whole window let text relevance outweigh a 5 % miss."""
    if target <= 0:
        return 0.0
    distance = abs(value - target) / target
    if distance <= window.same + 1e-9:
        return 1.0
    if distance >= window.near:
        return 0.0
    # Still a substitute up to the near edge: at least half the credit, above whatever lies beyond it.
    return NEAR_CREDIT * (1.0 - 0.5 * (distance - window.same) / (window.near - window.same))


def _power_closeness(plan: QueryPlan, power_w: float | None, category: str | None) -> float:
    if plan.target_power_w is None or power_w is None:
        return 0.0
    window = SizeWindow(SAME_POWER.get(category or "", DEFAULT_SAME_POWER), plan.power_tolerance)
    return _closeness(plan.target_power_w, power_w, window)


# Every search re-reads the same catalog's titles: remember what they state.
@lru_cache(maxsize=1 << 16)
def _title_sizes(title: str) -> tuple[Quantity, ...]:
    folded = fold(title)
    # "30A/24V" is two ratings, while the lexical analysis keeps a slash-joined run whole as a code; and a
    # title's "30 A" is a current (a query's "3 a 5" is a range, hence glued-only amperes in lexical).
    rated = _SPACED_AMPERES_RE.sub(r"\1a", folded.replace("/", " "))
    return (*quantities(rated), *counts(folded))


def _size_closeness(size: Quantity, title: str) -> float:
    """The best closeness among the title's quantities of the size's unit; 0 when it states none."""
    window = TITLE_SIZE_WINDOWS[size.unit]
    return max(
        (_closeness(size.value, q.value, window) for q in _title_sizes(title) if q.unit == size.unit),
        default=0.0,
    )


@lru_cache(maxsize=1 << 16)
def _padded_title(title: str) -> str:
    return f" {' '.join(_ALNUM_RE.findall(fold(title)))} "


def _brand_matches(plan: QueryPlan, payload: dict[str, Any]) -> bool:
    """The product is sold under the brand asked for; a kit also when its title names it (its modules' or
    inverter's brand)."""
    if plan.brand is None:
        return False
    brand = fold(plan.brand)
    if fold(payload.get("brand") or "") == brand:
        return True
    if payload.get("category") not in BRAND_IN_TITLE_CATEGORIES:
        return False
    return f" {' '.join(_ALNUM_RE.findall(brand))} " in _padded_title(payload.get("title") or "")


def _score(hit: Hit, best: float, plan: QueryPlan, weights: RankingWeights, names_code: bool) -> float:
    payload = hit.payload
    score = weights.relevance * (hit.score / best if best > 0 else 0.0)
    score += weights.power_closeness * _power_closeness(plan, payload.get("power_w"), payload.get("category"))
    title = payload.get("title") or ""
    score += weights.size_closeness * sum(_size_closeness(size, title) for size in plan.sizes)
    if plan.kinds:
        stated = kinds(_padded_title(title), payload.get("category"))
        score += weights.kind * sum(kind in stated for kind in plan.kinds)
    if names_code:
        score += weights.exact_code
    if _brand_matches(plan, payload):
        score += weights.brand
    if plan.category is not None and payload.get("category") == plan.category:
        score += weights.category
    if plan.phases is not None and payload.get("phases") is not None:
        score += weights.phases if payload["phases"] == plan.phases else -weights.phases
    roof = payload.get("roof_type") or roof_in(_padded_title(title)) if plan.roof_type is not None else None
    if roof is not None:
        score += weights.roof_type if roof == plan.roof_type else -weights.roof_type
    if payload.get("in_stock"):
        score += weights.in_stock
    # Rounded so float noise cannot decide between two equally relevant products.
    return round(score, 6)


def _result(hit: Hit, score: float, exact_match: bool) -> SearchResult:
    payload = hit.payload
    return SearchResult(
        id=payload.get("product_id") or hit.id,
        sku=payload.get("sku"),
        title=payload["title"],
        category=payload["category"],
        brand=payload["brand"],
        model=payload["model"],
        power_w=payload.get("power_w"),
        price_brl=payload.get("price_brl"),
        distributors=list(payload.get("distributors") or []),
        in_stock=bool(payload.get("in_stock")),
        score=score,
        exact_match=exact_match,
    )


def _like_named(plan: QueryPlan, named: dict[str, Any]) -> QueryPlan:
    """A query that is only a model code ("SE10K") asks for that product: the rest of the page should be
    its alternatives, of its category and size. Not its brand: a kit holding that brand's inverter is no
    alternative to the inverter."""
    return replace(
        plan,
        category=plan.category or named.get("category"),
        target_power_w=plan.target_power_w or named.get("power_w"),
    )


def rank(
    hits: list[Hit], plan: QueryPlan, limit: int, weights: RankingWeights = DEFAULT_WEIGHTS
) -> list[SearchResult]:
    best = max((hit.score for hit in hits), default=0.0)
    named = [_names_code(plan, hit.payload) for hit in hits]
    first_named = next((hit.payload for hit, exact in zip(hits, named, strict=True) if exact), None)
    if first_named is not None:
        plan = _like_named(plan, first_named)
    scored = [
        (_score(hit, best, plan, weights, exact), exact, hit) for hit, exact in zip(hits, named, strict=True)
    ]
    scored.sort(
        key=lambda item: (
            not item[1],  # a product named by its code comes first, whatever else scores
            -item[0],
            item[2].payload.get("price_brl") if item[2].payload.get("price_brl") is not None else math.inf,
            item[2].id,
        )
    )
    return [_result(hit, score, exact) for score, exact, hit in scored[:limit]]
