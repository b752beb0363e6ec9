"""Final ordering of catalog search hits: the fused retrieval score plus small, explainable boosts.

score = relevance × (fused score / best fused score)
      + power_closeness × closeness of power_w to the target (1 at the target, 0 at the tolerance edge)
      + exact_code when the query names the product's whole model code or SKU
      + brand, category when they match what the query asked for
      ± phases when the product's phases match (or contradict) the query's
      + in_stock
Ties go to the cheaper offer, then to the id, so the order never depends on the engine's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict

from catalog.lexical import WORD
from catalog.query import QueryPlan
from kernel.text import fold
from kernel.vectors import Hit

_WORD_RE = re.compile(WORD)
_HAS_DIGIT_RE = re.compile(r"\d")


@dataclass(frozen=True)
class RankingWeights:
    relevance: float = 1.0
    power_closeness: float = 0.6
    exact_code: float = 1.0  # more than any other boost: naming a model code is the clearest intent
    brand: float = 0.2
    category: float = 0.5
    phases: float = 0.3  # a phase mismatch is an electrical incompatibility, hence also a penalty
    in_stock: float = 0.2


DEFAULT_WEIGHTS = RankingWeights()
MIN_CODE_CHARS = 4  # "550" or "G2" in a query is a power or a noise word, not a product's name


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


def _power_closeness(plan: QueryPlan, power_w: float | None) -> float:
    if plan.target_power_w is None or power_w is None or plan.target_power_w <= 0:
        return 0.0
    distance = abs(power_w - plan.target_power_w) / (plan.target_power_w * plan.power_tolerance)
    return max(0.0, 1.0 - distance)


def _score(hit: Hit, best: float, plan: QueryPlan, weights: RankingWeights, names_code: bool) -> float:
    payload = hit.payload
    score = weights.relevance * (hit.score / best if best > 0 else 0.0)
    score += weights.power_closeness * _power_closeness(plan, payload.get("power_w"))
    if names_code:
        score += weights.exact_code
    if plan.brand is not None and fold(payload.get("brand") or "") == fold(plan.brand):
        score += weights.brand
    if plan.category is not None and payload.get("category") == plan.category:
        score += weights.category
    if plan.phases is not None and payload.get("phases") is not None:
        score += weights.phases if payload["phases"] == plan.phases else -weights.phases
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


def rank(
    hits: list[Hit], plan: QueryPlan, limit: int, weights: RankingWeights = DEFAULT_WEIGHTS
) -> list[SearchResult]:
    best = max((hit.score for hit in hits), default=0.0)
    named = [_names_code(plan, hit.payload) for hit in hits]
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
