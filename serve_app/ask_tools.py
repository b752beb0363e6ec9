"""Hélio's computation tool: a sizing, kit or payback question with enough to go on is answered from the
recommend engine, and its figures become a passage the answer cites like any other.

What the tool needs comes from the request's `context` (consumption, place, connection) or, for the
consumption, from the question itself ("consumo de 450 kWh"). Without a consumption and a place it does
not run, and the response's notes say what was missing.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from rag.passages import Passage
from rag.pricing import brl
from rag.text import fold
from serve_app.errors import DependencyUnavailable, InvalidRequest
from serve_app.recommend import KitRecommender
from serve_app.recommend_models import RecommendRequest, RecommendResponse

TOOLS_COLLECTION = "helio-tools"
TOOL_INTENTS = frozenset({"sizing", "payback"})
DEFAULT_CONNECTION = "bi"
_CONSUMPTION = re.compile(r"(\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?)\s*kwh")
_CONTEXT_FIELDS = (
    "consumption_kwh_month",
    "monthly_kwh",
    "city",
    "uf",
    "lat",
    "lon",
    "connection",
    "utility",
)


def _number(text: str) -> float:
    """Brazilian writing: "1.200" is twelve hundred, "350,5" three hundred and fifty and a half."""
    return float(text.replace(".", "").replace(",", "."))


def recommend_request(question: str, context: dict[str, Any]) -> RecommendRequest | str:
    """The recommend request the question and context make, or why there is none."""
    fields = {name: context[name] for name in _CONTEXT_FIELDS if context.get(name) is not None}
    if "consumption_kwh_month" not in fields and "monthly_kwh" not in fields:
        found = _CONSUMPTION.search(fold(question))
        if found is None:
            return "sizing not computed: no consumption (kWh/month) in the question or context"
        fields["consumption_kwh_month"] = _number(found.group(1))
    fields.setdefault("connection", DEFAULT_CONNECTION)
    try:
        return RecommendRequest.model_validate(fields)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem.get("loc", ()))
        return f"sizing not computed: {where or 'context'}: {problem.get('msg', 'invalid')}"


def summary(request: RecommendRequest, response: RecommendResponse) -> str:
    site, sizing, tariff = response.site, response.sizing, response.tariff
    text = (
        f"Cálculo do Hélio para {sizing.consumption_kwh_month:g} kWh/mês em {site.name}/{site.uf} "
        f"(ligação {request.connection}): sistema de {sizing.kwp:.2f} kWp, geração média de "
        f"{sizing.generation_kwh_month:.0f} kWh/mês (HSP {sizing.hsp:.2f}, PR {sizing.pr:.2f}). "
        f"Tarifa {tariff.utility}: {brl(tariff.with_taxes_brl_kwh)}/kWh com impostos."
    )
    if not response.options or response.finance is None:
        return text + f" Nenhum kit em estoque atende: {response.reason}."
    best, finance = response.options[0], response.finance
    payback = (
        f"{finance.simple_payback_years:.1f} anos" if finance.simple_payback_years else "acima de 25 anos"
    )
    return text + (
        f" Melhor opção: {best.title}, {brl(best.total_brl)} em equipamentos "
        f"({best.price_per_wp:.2f} R$/Wp); "
        f"investimento com instalação {brl(finance.investment_brl)}; economia no primeiro ano "
        f"{brl(finance.first_year_savings_brl)}; payback simples de {payback}."
    )


class SolarTool:
    """Runs the recommend engine for a question, off the event loop (the kit search is CPU-bound)."""

    def __init__(self, recommender: KitRecommender) -> None:
        self._recommender = recommender

    def passage(self, question: str, context: dict[str, Any]) -> Passage | str:
        """The computed passage, or a note saying why there is none."""
        request = recommend_request(question, context)
        if isinstance(request, str):
            return request
        try:
            response = self._recommender.recommend(request)
        except (InvalidRequest, DependencyUnavailable) as error:
            return f"sizing not computed: {error}"
        return Passage(
            collection=TOOLS_COLLECTION,
            id="recommend",
            title="Dimensionamento e payback calculados",
            source="POST /store/helio/recommend",
            section="",
            text=summary(request, response),
            score=1.0,
        )
