"""Hélio's calculator: a question carrying a consumption and a place — in its text ("800 kWh por mês em
Recife") or in the request's `context` — is answered from the recommend engine, whose figures become the
passage the answer cites and a sentence per figure, so the answer can open with the one asked for. A
question asking whether two products it names by model work together ("o CS6W-550MS é compatível com o
SUN-5K-G03?") is answered from the same electrical check as the compatible-products endpoint, and a cart
it writes ("orçamento de 10 CS6W-550MS e 1 SUN-5K-G03") is priced and checked as `POST /quote` does.

Without a consumption anywhere there is nothing to compute (None); with one but no usable place, a note
says what was missing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from kernel.errors import DependencyUnavailable, InvalidRequest
from kernel.numbers import WRITTEN_NUMBER, parse_decimal
from kernel.text import fold
from rag.assistant import NO_CONSUMPTION, Calculation
from rag.passages import Passage
from rag.pricing import brl
from rag.questions import COMPATIBILITY, QUOTE, Figure
from rag.routing import MODEL_CODE
from services.quote import CartItem, QuoteRequest, QuoteResponse, quote_cart
from services.recommend import KitRecommender
from services.recommend_models import RecommendRequest, RecommendResponse
from solar.compatibility import NotAnAnchor, PairFit, pair_fit
from solar.offers import Listing

TOOLS_COLLECTION = "helio-tools"
DEFAULT_CONNECTION = "bi"
_CONSUMPTION = re.compile(rf"({WRITTEN_NUMBER})\s*kwh")
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
        fields["consumption_kwh_month"] = parse_decimal(found.group(1))
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


# A quantity written before a product: "10 CS6W-550MS", "10x módulos CS6W-550MS", "1 inversor SUN-5K".
_QUANTITY_BEFORE = re.compile(r"\b(\d{1,5})\s*(?:x\s*)?(?:(?:un\w*|pecas?|[a-z]+)\s+){0,2}(?:de |do |da )?$")


def cart_in(listings: Iterable[Listing], question: str) -> list[tuple[Listing, int]]:
    """(product, quantity) for each catalog product whose model code the question writes ("SUN-5K-G03",
    "cs6w-550ms"), in the question's order, each once; 1 when no number precedes it."""
    folded = fold(question)
    if re.search(MODEL_CODE, folded) is None:  # the common case: no catalog to go through
        return []
    by_model = {fold(listing.model): listing for listing in listings}
    cart: dict[str, tuple[Listing, int]] = {}
    start = 0
    for match in re.finditer(MODEL_CODE, folded):
        listing = by_model.get(match.group(0))
        if listing is not None and listing.id not in cart:
            written = _QUANTITY_BEFORE.search(folded[start : match.start()])
            cart[listing.id] = (listing, int(written.group(1)) if written else 1)
        start = match.end()
    return list(cart.values())


def quote_summary(response: QuoteResponse) -> tuple[str, str]:
    """(the opening sentence, the passage's text) for a priced cart."""
    lines = [
        f"{line.qty} × {line.title}: "
        + (
            f"{brl(line.unit_price_brl)} cada, {brl(line.total_brl)} ({line.distributor})"
            if line.unit_price_brl is not None and line.total_brl is not None
            else "sem estoque para essa quantidade"
        )
        for line in response.lines
    ]
    failed = [check.name for check in response.checks if not check.ok]
    lead = f"O orçamento fica em {brl(response.total_brl)}" + (
        f", com {len(failed)} verificação(ões) a rever ({', '.join(failed)})."
        if failed
        else ", e o conjunto passa nas verificações."
    )
    return lead, f"Orçamento do Hélio: {'; '.join(lines)}. Total {brl(response.total_brl)}."


def compatibility_summary(fit: PairFit, site: str) -> tuple[str, str]:
    """(the opening sentence, the passage's text) for a module and an inverter checked together."""
    module, inverter = fit.module.title, fit.inverter.title
    if fit.micro:
        ratio = f"{fit.dc_ac_ratio:.2f}".replace(".", ",")
        numbers = f"{fit.inputs} módulo(s) por microinversor, relação CC/CA {ratio}"
    elif fit.fits:
        numbers = (
            f"de {fit.fewest_in_series} a {fit.most_in_series} módulos em série, até "
            f"{fit.strings_per_mppt} string(s) por MPPT em {fit.mppts} MPPT(s)"
        )
    else:
        numbers = "nenhum número de módulos em série respeita a tensão máxima e a faixa de MPPT juntas"
    verdict = "Sim" if fit.fits else "Não"
    lead = f"{verdict}: o {module} {'funciona' if fit.fits else 'não funciona'} com o {inverter} ({site})."
    text = (
        f"Verificação do Hélio para {module} com {inverter}, nas temperaturas de projeto de {site}: "
        f"{numbers}."
    )
    return lead, text


def tool_passage(point_id: str, title: str, source: str, text: str) -> Passage:
    """A computed result as a passage the answer cites like any other."""
    return Passage(TOOLS_COLLECTION, point_id, title, source, "", text, 1.0)


class SolarTool:
    """The `rag.assistant.Calculator` over the recommend engine, run off the event loop (the kit search
    is CPU-bound)."""

    def __init__(self, recommender: KitRecommender) -> None:
        self._recommender = recommender

    async def __call__(self, question: str, context: dict[str, Any]) -> Calculation | str | None:
        folded = fold(question)
        for wording, check in ((COMPATIBILITY, self.compatibility), (QUOTE, self.quote)):
            if wording.search(folded):
                checked = await asyncio.to_thread(check, question, context)
                if checked is not None:
                    return checked
        if not consumption_in(question, context):
            return None
        return await asyncio.to_thread(self.calculate, question, context)

    def compatibility(self, question: str, context: dict[str, Any]) -> Calculation | str | None:
        """Two products the question names by model, checked together at the place's temperatures; None
        when it does not name two."""
        try:
            snapshot = self._recommender.current_snapshot()
        except DependencyUnavailable as error:
            return f"compatibility not checked: {error}"
        named = [listing for listing, _ in cart_in(snapshot.index.listings.values(), question)]
        if len(named) < 2:
            return None
        params = self._recommender.params
        uf = context.get("uf") or (place[1] if (place := self._recommender.place_in(question)) else None)
        state = fold(str(uf)).upper() if uf else None
        site = params.site_temperatures(state if state in params.temperatures_by_uf else None)
        try:
            fit = pair_fit(snapshot.index, named[0].id, named[1].id, site, params)
        except NotAnAnchor as error:
            return f"compatibility not checked: {error}"
        temperatures = f"{site.min_c:g} a {site.max_c:g} °C"
        where = f"{state}, {temperatures}" if state else temperatures
        lead, text = compatibility_summary(fit, where)
        source = "GET /store/helio/products/{id}/compatible"
        return Calculation(
            tool_passage("compatibility", "Compatibilidade verificada", source, text), {"compatibility": lead}
        )

    def quote(self, question: str, context: dict[str, Any]) -> Calculation | str | None:
        """The cart a question writes ("orçamento de 10 CS6W-550MS e 1 SUN-5K-G03"), priced and checked
        like `POST /store/helio/quote`; None when it names no product with a quantity, nor two."""
        try:
            snapshot = self._recommender.current_snapshot()
        except DependencyUnavailable as error:
            return f"quote not computed: {error}"
        cart = cart_in(snapshot.index.listings.values(), question)
        if not cart or (len(cart) < 2 and cart[0][1] == 1):
            return None
        place = self._recommender.place_in(question)
        fields = {name: context[name] for name in ("city", "uf") if context.get(name)}
        if place is not None and not fields:
            fields = {"city": place[0], "uf": place[1]}
        try:
            request = QuoteRequest(items=[CartItem(product_id=i.id, qty=qty) for i, qty in cart], **fields)
            response = quote_cart(self._recommender, request)
        except (ValidationError, InvalidRequest) as error:
            return f"quote not computed: {error}"
        lead, text = quote_summary(response)
        return Calculation(
            tool_passage("quote", "Orçamento calculado", "POST /store/helio/quote", text), {"quote": lead}
        )

    def calculate(self, question: str, context: dict[str, Any]) -> Calculation | str:
        """The calculation, or a note saying why there is none."""
        request = recommend_request(question, context, self._recommender.place_in(question))
        if isinstance(request, str):
            return request
        try:
            response = self._recommender.recommend(request)
        except (InvalidRequest, DependencyUnavailable) as error:
            return f"sizing not computed: {error}"
        text = summary(request, response)
        passage = tool_passage(
            "recommend", "Dimensionamento e payback calculados", "POST /store/helio/recommend", text
        )
        return Calculation(passage, headlines(response))
