"""Hélio's calculator: a question carrying a consumption and a place — in its text ("800 kWh por mês em
Recife") or in the request's `context` — is answered from the recommend engine, whose figures become the
passage the answer cites and a sentence per figure, so the answer can open with the one asked for.

Without a consumption anywhere there is nothing to compute (None); with one but no usable place, a note
says what was missing.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from pydantic import ValidationError

from rag.assistant import NO_CONSUMPTION, Calculation
from rag.passages import Passage
from rag.pricing import brl
from rag.questions import Figure
from rag.text import fold
from serve_app.errors import DependencyUnavailable, InvalidRequest
from serve_app.recommend import KitRecommender
from serve_app.recommend_models import RecommendRequest, RecommendResponse

TOOLS_COLLECTION = "helio-tools"
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
_PLACE_FIELDS = ("city", "uf", "lat", "lon")


def _number(text: str) -> float:
    """Brazilian writing: "1.200" is twelve hundred, "350,5" three hundred and fifty and a half."""
    return float(text.replace(".", "").replace(",", "."))


def consumption_in(question: str, context: dict[str, Any]) -> bool:
    return bool(
        context.get("consumption_kwh_month")
        or context.get("monthly_kwh")
        or _CONSUMPTION.search(fold(question))
    )


def recommend_request(
    question: str, context: dict[str, Any], place: tuple[str, str] | None = None
) -> RecommendRequest | str:
    """The recommend request the question and context make, or why there is none. `place` is the
    (city, uf) the question names; the context's place wins over it."""
    fields = {name: context[name] for name in _CONTEXT_FIELDS if context.get(name) is not None}
    if "consumption_kwh_month" not in fields and "monthly_kwh" not in fields:
        found = _CONSUMPTION.search(fold(question))
        if found is None:
            return NO_CONSUMPTION
        fields["consumption_kwh_month"] = _number(found.group(1))
    if place is not None and not any(name in fields for name in _PLACE_FIELDS):
        fields["city"], fields["uf"] = place
    fields.setdefault("connection", DEFAULT_CONNECTION)
    try:
        return RecommendRequest.model_validate(fields)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem.get("loc", ()))
        return f"sizing not computed: {where or 'context'}: {problem.get('msg', 'invalid')}"


def _years(value: float | None) -> str:
    return f"{value:.1f}".replace(".", ",") + " anos" if value else "acima de 25 anos"


def summary(request: RecommendRequest, response: RecommendResponse) -> str:
    site, sizing, tariff = response.site, response.sizing, response.tariff
    text = (
        f"Cálculo do Hélio para {sizing.consumption_kwh_month:g} kWh/mês em {site.name}/{site.uf} "
        f"(ligação {request.connection}): sistema de {_kwp(sizing.kwp)}, geração média de "
        f"{sizing.generation_kwh_month:.0f} kWh/mês (HSP {sizing.hsp:.2f}, PR {sizing.pr:.2f}). "
        f"Tarifa {tariff.utility}: {brl(tariff.with_taxes_brl_kwh)}/kWh com impostos."
    )
    if not response.options or response.finance is None:
        return text + f" Nenhum kit em estoque atende: {response.reason}."
    best, finance = response.options[0], response.finance
    return text + (
        f" Melhor opção: {best.title}, {brl(best.total_brl)} em equipamentos "
        f"({best.price_per_wp:.2f} R$/Wp); "
        f"investimento com instalação {brl(finance.investment_brl)}; economia no primeiro ano "
        f"{brl(finance.first_year_savings_brl)}; payback simples de {_years(finance.simple_payback_years)}."
    )


def _kwp(kwp: float) -> str:
    return f"{kwp:.2f}".replace(".", ",") + " kWp"


def headlines(response: RecommendResponse) -> dict[Figure, str]:
    """One opening sentence per figure a question can ask for."""
    site, sizing = response.site, response.sizing
    where = f"{sizing.consumption_kwh_month:g} kWh/mês em {site.name}/{site.uf}"
    lines: dict[Figure, str] = {
        "size": f"Para {where}, o sistema indicado tem {_kwp(sizing.kwp)}.",
        "generation": (
            f"Um sistema de {_kwp(sizing.kwp)} em {site.name}/{site.uf} gera em média "
            f"{sizing.generation_kwh_month:.0f} kWh/mês."
        ),
    }
    finance = response.finance
    if not response.options or finance is None:
        return lines
    best = response.options[0]
    lines |= {
        "modules": f"Para {where}, a melhor opção é {best.title} ({_kwp(best.dc_power_w / 1000)}).",
        "payback": f"Para {where}, o payback simples estimado é de {_years(finance.simple_payback_years)}.",
        "savings": (
            f"Para {where}, a economia estimada é de {brl(finance.monthly_savings_brl)} por mês, "
            f"{brl(finance.first_year_savings_brl)} no primeiro ano."
        ),
        "investment": (
            f"Para {where}, o investimento estimado é de {brl(finance.investment_brl)} "
            f"({brl(finance.equipment_brl)} em equipamentos e {brl(finance.installation_brl)} de instalação)."
        ),
    }
    if finance.financing:
        line = min(finance.financing, key=lambda option: option.instalment_brl)
        lines["financing"] = (
            f"Para {where}, financiando {brl(finance.investment_brl)} em {line.term_months} meses "
            f"({line.lender}, {line.monthly_rate_pct:.2f}% a.m.), a parcela fica em "
            f"{brl(line.instalment_brl)} para uma economia de {brl(line.monthly_savings_brl)} por mês."
        )
    return lines


class SolarTool:
    """The `rag.assistant.Calculator` over the recommend engine, run off the event loop (the kit search
    is CPU-bound)."""

    def __init__(self, recommender: KitRecommender) -> None:
        self._recommender = recommender

    async def __call__(self, question: str, context: dict[str, Any]) -> Calculation | str | None:
        if not consumption_in(question, context):
            return None
        return await asyncio.to_thread(self.calculate, question, context)

    def calculate(self, question: str, context: dict[str, Any]) -> Calculation | str:
        """The calculation, or a note saying why there is none."""
        request = recommend_request(question, context, self._recommender.place_in(question))
        if isinstance(request, str):
            return request
        try:
            response = self._recommender.recommend(request)
        except (InvalidRequest, DependencyUnavailable) as error:
            return f"sizing not computed: {error}"
        passage = Passage(
            collection=TOOLS_COLLECTION,
            id="recommend",
            title="Dimensionamento e payback calculados",
            source="POST /store/helio/recommend",
            section="",
            text=summary(request, response),
            score=1.0,
        )
        return Calculation(passage, headlines(response))
