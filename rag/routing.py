"""Which knowledge collections a question goes to, and what it asks for (the intent).

Rules are regexes over folded text (accents and case dropped), checked all at once. The first rule in
`RULES` that fires gives the intent and leads the collection order; the collections of the other rules
that fire follow, then the list is cut at `MAX_COLLECTIONS`. A follow-up ("e o preço dele?") is routed
together with the last user turn of the history, whose rules rank after the question's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from kernel.schemas import (
    CATALOG_COLLECTION,
    PRICING_COLLECTION,
    REGULATORY_COLLECTION,
    SALES_COLLECTION,
    TECHNICAL_COLLECTION,
)
from kernel.text import fold

Intent = Literal["product", "price", "sizing", "payback", "regulatory", "technical", "sales", "general"]

MAX_COLLECTIONS = 3
# Nothing fired: the FAQ material first, then the technical and regulatory documents.
GENERAL_COLLECTIONS = (SALES_COLLECTION, TECHNICAL_COLLECTION, REGULATORY_COLLECTION)
# A question this short, or one leaning on a previous turn, is read together with that turn. ("esta" is
# left out: folded, it is also "está".)
FOLLOW_UP_MAX_WORDS = 4
FOLLOW_UP = re.compile(
    r"^(?:e|mas|entao|tambem)\b|\b(?:dele|dela|deles|delas|disso|desse|dessa|nesse|nessa|neste|nesta|"
    r"esse|essa|isso|ele|ela|o mesmo|a mesma)\b"
)
# Folded brand names the catalog carries; a model code is letters and digits joined by hyphens (SUN-5K-G).
BRANDS = (
    r"canadian|jinko|trina|longi|ja solar|risen|astronergy|byd|dah|osda|sunova|znshine|growatt|deye|"
    r"fronius|huawei|goodwe|sungrow|solis|sofar|hoymiles|apsystems|enphase|sma|weg|pylontech|unipower|"
    r"livoltek|tsuness|intelbras|saj|chint|foxess|renovigi|ecori|phb|solplanet|dyness"
)
MODEL_CODE = r"\b(?=[a-z0-9]*[a-z])(?=[a-z0-9-]*\d)[a-z0-9]+(?:-[a-z0-9]+)+\b"


@dataclass(frozen=True)
class Rule:
    intent: Intent
    pattern: re.Pattern[str]
    collections: tuple[str, ...]


def _rule(intent: Intent, pattern: str, *collections: str) -> Rule:
    return Rule(intent, re.compile(pattern), collections)


# Priority order: when several fire, the earliest gives the intent ("quanto custa o inversor" is a price
# question about a product; "qual o payback com o Fio B" a payback question that also needs the law).
RULES: tuple[Rule, ...] = (
    _rule(
        "sizing",
        r"^(?!.*\b(?:strings?|mppts?)\b).*\b(?:dimension\w*|"
        r"quant[oa]s (?:paineis|modulos|placas|inversores|kwp)|"
        r"(?:que|qual|quanto de|quantos) (?:sistema|kit|potencia|kwp)\b.*\bpreciso|"
        r"tamanho do (?:sistema|kit|gerador)|conta de (?:luz|energia)|consumo (?:de|medio|mensal)|"
        r"\d+ ?kwh ?(?:/|por) ?mes)",
        TECHNICAL_COLLECTION,
        CATALOG_COLLECTION,
    ),
    _rule(
        "payback",
        r"\b(?:payback|retorno|financ\w*|parcela\w*|juros|economi\w*|vale a pena|roi|tir|vpl|"
        r"credito solar|linha de credito|amortiza\w*)\b",
        SALES_COLLECTION,
        REGULATORY_COLLECTION,
    ),
    _rule(
        "price",
        r"\b(?:precos?|quanto (?:custa|sai|fica|esta)|valor(?:es)?(?! da tarifa| do kwh| da energia| do fio)|"
        r"custo(?! de disponibilidade)|orcamento|cotac\w*|desconto|estoque|pronta entrega|"
        r"disponive(?:l|is)|prazo de entrega|mais barat\w*|distribuidor(?:es)?)\b",
        PRICING_COLLECTION,
        CATALOG_COLLECTION,
    ),
    _rule(
        "regulatory",
        r"\b(?:homolog\w*|distribuidoras?|concessionari\w*|lei ?14\.?300|marco legal|fio b|ren ?1\.?000|"
        r"ren ?482|resoluc\w* normativa|aneel|inmetro|tarifa\w*|bandeira|custo de disponibilidade|"
        r"compensac\w*|creditos? de energia|geracao distribuida|gd|microgerac\w*|minigerac\w*|"
        r"parecer de acesso|solicitacao de acesso|vistoria|medidor|direito adquirido|taxa minima)\b",
        REGULATORY_COLLECTION,
    ),
    _rule(
        "technical",
        r"\b(?:strings?|mppts?|voc|isc|vmp|imp|tensao|tensoes|corrente|stringbox|string box|bitola|"
        r"disjuntor\w*|dps|aterramento|instala\w*|inclinacao|orientacao|sombreamento|oversizing|"
        r"overload|relacao cc ?/ ?ca|fator de dimensionamento|compativ\w*|ligac\w*|eficiencia|"
        r"temperatura|coeficiente|especifica\w*|ficha tecnica|datasheet)\b",
        TECHNICAL_COLLECTION,
        CATALOG_COLLECTION,
    ),
    _rule(
        "product",
        rf"\b(?:paineis|painel|modulos?|placas?|(?:micro)?inversor(?:es)?|baterias?|kits?|"
        rf"estruturas?|controlador(?:es)?|conector(?:es)?|cabos?|mc4|{BRANDS})\b|{MODEL_CODE}",
        CATALOG_COLLECTION,
        TECHNICAL_COLLECTION,
    ),
    _rule(
        "sales",
        r"\b(?:vend\w*|argument\w*|objec\w*|proposta|comiss\w*|playbook|faq|garantia|pos-venda|"
        r"convencer|fechar (?:o )?negocio|margem)\b",
        SALES_COLLECTION,
    ),
)


@dataclass(frozen=True)
class Route:
    intent: Intent
    collections: tuple[str, ...]  # most relevant first; never empty, at most MAX_COLLECTIONS
    query: str  # the text to retrieve with: the question, after the previous user turn on a follow-up


def route(question: str, history: Sequence[Mapping[str, str]] = ()) -> Route:
    folded = fold(question)
    previous = _last_user_turn(history) if _is_follow_up(folded) else None
    fired = [rule for rule in RULES if rule.pattern.search(folded)]
    earlier = [rule for rule in RULES if previous is not None and rule.pattern.search(fold(previous))]
    if not fired and not earlier:
        return Route("general", GENERAL_COLLECTIONS, question)
    lead = (fired or earlier)[0]
    # The lead's collections in its order, then those of the question's other rules, then the earlier turn's.
    ordered = [*lead.collections, *(c for rule in fired for c in rule.collections)]
    ordered += [c for rule in earlier for c in rule.collections]
    collections = tuple(dict.fromkeys(ordered))[:MAX_COLLECTIONS]
    query = question if previous is None else f"{previous}\n{question}"
    return Route(lead.intent, collections, query)


def _is_follow_up(folded: str) -> bool:
    return len(folded.split()) <= FOLLOW_UP_MAX_WORDS or FOLLOW_UP.search(folded) is not None


def _last_user_turn(history: Sequence[Mapping[str, str]]) -> str | None:
    for turn in reversed(history):
        content = turn.get("content")
        if turn.get("role") == "user" and isinstance(content, str) and content.strip():
            return content
    return None
