"""What kind of answer a question asks for, read from its wording: the extractive answer leads with a
sentence of that kind, and a calculation answers with the figure asked for.

Rules are regexes over folded text (accents and case dropped), tried in order; the first that fires wins.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Literal

from kernel.text import fold

QuestionType = Literal["percentage", "deadline", "quantity", "yes_no", "definition", "procedure", "other"]
Figure = Literal[
    "compatibility", "quote", "payback", "savings", "investment", "financing", "size", "generation", "modules"
]

_TYPES: tuple[tuple[QuestionType, re.Pattern[str]], ...] = (
    (
        "percentage",
        re.compile(r"%|\bpor ?cento\b|\bpercent\w*|\bporcentagem\b|\b(?:que|qual a) (?:parcela|fracao)\b"),
    ),
    (
        "deadline",
        re.compile(
            r"\b(?:prazo|quando|ate quando|validade|vale por|vigencia|vence|expira|em que ano|a partir de que"
            r"|quantos (?:dias|meses|anos|horas)|quanto tempo|demora|leva(?:m)? quanto|durab\w*|vida util)\b"
        ),
    ),
    (
        "quantity",
        re.compile(
            r"\bquant[oa]s?\b|\bqual (?:e )?(?:(?:o|a) )?(?:valor|tamanho|potencia|tensao|corrente|bitola|"
            r"secao|distancia|altura|limite|minimo|maximo|taxa|custo|faixa|numero|perda|temperatura|inclinacao)\b"
            r"|\b(?:minimo|maximo|limite)\b"
        ),
    ),
    (
        "definition",
        re.compile(
            r"\bo que (?:e|sao|significa|quer dizer)\b|\bpara que serve\b|\bpra que serve\b|"
            r"\bqual (?:e )?a diferenca\b|\bdiferenca entre\b|\bsignifica\b"
        ),
    ),
    (
        "procedure",
        re.compile(
            r"^\s*como\b|\bcomo (?:eu |a gente |se |o |a )?(?:faco|faz|fazer|funciona|calcul\w*|verific\w*|"
            r"confir\w*|dimension\w*|escolh\w*|instal\w*|limp\w*|consig\w*|pe[cç]o|solicit\w*|le|leio|ler)\b"
            r"|\bquais (?:sao )?(?:os )?(?:passos|etapas|documentos|cuidados)\b|\bpasso a passo\b"
        ),
    ),
    (
        "yes_no",
        re.compile(
            r"^\s*(?:e |mas |entao )?(?:posso|pode|podem|da pra|da para|tem como|e possivel|e verdade|"
            r"existe|precisa|preciso|devo|deve|e obrigatori\w*|vale a pena|compensa|tem|ha|o|a|os|as)\b"
            r".*\?\s*$"
        ),
    ),
)

# Whether two things work together: "é compatível com", "funciona com", "combina com".
COMPATIBILITY = re.compile(r"\bcompativ\w*|\bincompativ\w*|\bfuncion\w* (?:bem )?com\b|\bcombin\w* com\b")

# A price for a cart the question writes: "orçamento de 10 CS6W-550MS e 1 SUN-5K-G03", "quanto fica …".
QUOTE = re.compile(r"\borcament\w*|\bcotac\w*|\bcotar\b|\bquanto (?:fica|sai|custa|da)\b")

_FIGURES: tuple[tuple[Figure, re.Pattern[str]], ...] = (
    ("compatibility", COMPATIBILITY),
    ("quote", QUOTE),
    ("payback", re.compile(r"\bpayback\b|\bretorno\b|\bse paga\b|\bem quanto tempo\b|\bquantos anos\b")),
    ("financing", re.compile(r"\bparcela\w*|\bfinanc\w*|\bprestac\w*|\bjuros\b")),
    ("savings", re.compile(r"\beconomi\w*|\bdeixo de pagar\b|\breduz\w* (?:a|na) conta\b")),
    (
        "investment",
        re.compile(r"\bcust\w*|\binvest\w*|\bpreco\b|\bquanto (?:sai|fica|vou pagar)\b|\bvalor\b"),
    ),
    ("modules", re.compile(r"\bquant[oa]s (?:paineis|placas|modulos)\b")),
    ("generation", re.compile(r"\bgera(?:r|cao|ria)?\b|\bproduz\w*")),
    ("size", re.compile(r"\bkwp\b|\btamanho\b|\bpotencia\b|\bdimension\w*|\bque sistema\b|\bqual sistema\b")),
)


# Shopping words: the asker wants products and offers, not an explanation.
_SHOPPING = re.compile(
    r"^\s*(?:e |voces )?tem\b|\btem\??\s*$|\bvoces (?:tem|vendem|trabalham|possuem|oferecem)\b|\bvende[m]?\b|"
    r"\b(?:a venda|disponive(?:l|is))\b|"
    r"\bquero (?:um|uma|comprar|cotar)\b|\bpreciso de (?:um|uma)\b|"
    r"\b(?:qual|quais) (?:o|os|e o) (?:preco|valor)\b|\bquanto (?:custa|sai|ta custando|esta custando)\b"
)


def wants_products(question: str) -> bool:
    """Whether the question shops ("vocês têm…", "quanto custa um…") rather than asks how things work."""
    return _SHOPPING.search(fold(question)) is not None


def question_type(question: str) -> QuestionType:
    folded = fold(question)
    return next((kind for kind, pattern in _TYPES if pattern.search(folded)), "other")


def figure_asked(question: str, offered: Collection[Figure] | None = None) -> Figure:
    """The figure a calculated question wants first, among those `offered` (all when not given); the
    system size when it names none ("quanto custa" is a quote's total, or a system's investment)."""
    folded = fold(question)
    wanted = (f for f, pattern in _FIGURES if pattern.search(folded) and (offered is None or f in offered))
    return next(wanted, "size")
