"""The answer built from the passages alone: the sentence that answers first, then what supports it, each
sentence cited.

Every sentence of the best passages is a candidate. It scores by the question's terms it holds (stemmed,
each weighted by how rare it is in the knowledge bases, so "fio b" counts more than "sistema"), by whether
it holds what the question type asks for (a percentage, a deadline, a quantity with its unit, a
definition, steps), and by its passage's rank. The best one opens the answer; up to `MAX_SUPPORT` more
follow when they score close to it — for a procedure or an explanation, the sentences after it in the
same passage first, since that is where the steps are. Sentences are quoted whole (numbers and units are
never cut), table rows are read with their header ("Ano: 2026; Parcela: 60 %").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kernel.schemas import CATALOG_COLLECTION, PRICING_COLLECTION
from kernel.text import fold
from rag.analysis import query_terms, terms
from rag.answer import Answer, Citation, citation
from rag.passages import Passage
from rag.questions import QuestionType, question_type, wants_products

MAX_PASSAGES = 4  # the best passages the sentences come from
MAX_PRODUCTS = 3  # products and offers listed for a question about products
PRODUCT_COLLECTIONS = frozenset({CATALOG_COLLECTION, PRICING_COLLECTION})
PRODUCT_INTENTS = frozenset({"product", "price"})
MAX_SUPPORT = 2  # sentences after the first
SUPPORT_SHARE = 0.55  # a supporting sentence scores at least this share of the first one
OTHER_DOCUMENT_SHARE = 0.65  # … this share when it comes from another document
MAX_SENTENCE_CHARS = 420  # longer "sentences" (run-on lists) are cut at a word, never inside a number
MIN_SENTENCE_WORDS = 3
TYPE_BONUS = 0.6  # share of its score a sentence of the kind asked for (a %, a deadline…) gains
UNFIT = 0.7  # … and what one of another kind keeps
CONTEXT_WEIGHT = 0.3  # what a question term in the sentence's heading (not the sentence) counts
RANK_DECAY = 0.12  # each passage further down weighs this much less

_KIND_PATTERNS: dict[QuestionType, re.Pattern[str]] = {
    "percentage": re.compile(r"\d\s?%|\bpor cento\b"),
    "deadline": re.compile(
        r"\b\d+\s?(?:dias?|meses|mes|anos?|horas?|semanas?)\b|\b(?:19|20)\d\d\b|\bate\b|\bprazo\b|\bvalid"
    ),
    "quantity": re.compile(
        r"\d\s?(?:%|kwh?p?|mwp?|w|wp|v|a|mm2?|m|cm|°c|c|kg|anos?|dias?|r\$)\b|r\$\s?\d|\b\d+[.,]?\d*\b"
    ),
    "definition": re.compile(r"\b(?:e|sao|significa|chama-se|refere-se|consiste|funciona como|ou seja)\b"),
    "procedure": re.compile(r"^\d+[.)]\s|\b(?:primeiro|depois|em seguida|por fim|etapa|passo)\b|:$"),
    "yes_no": re.compile(r"\b(?:nao|sim|pode|podem|deve|devem|precisa|obrigatori\w*|permit\w*|vedad\w*)\b"),
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý0-9\"“(])")
_MARKUP = re.compile(r"\*\*|__|`")
_BULLET = re.compile(r"^\s*(?:#+|[-*+•])\s+")
# Units a question can name; a bare "v" or "a" only after a number ("600 V"), not as the article "a".
_UNIT = re.compile(
    r"(?<![a-z])(gw|mwp?|kwp|kwh|kw|wp|mm2?|r\$|%|dias?|meses|anos?|horas?|(?<=\d)\s?[va])(?![a-z])"
)
_STEP = re.compile(r"^\d+[.)]\s+")
_DANGLING = re.compile(r"\s+(?:R\$|US\$|€)$")
_ITEM = re.compile(r"^(?:#+|[-*+•]|\d+[.)])\s")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")
_WORD = re.compile(r"[^\W_]")


Weigh = Callable[[str], float]


@dataclass(frozen=True)
class Extract:
    answer: Answer
    coverage: float  # IDF-weighted share of the question's terms the opening sentence holds
    fits: bool  # the opening sentence holds what the question type asks for (a %, a deadline, …)


@dataclass(frozen=True)
class Sentence:
    text: str
    passage: int  # index into the passages given
    position: int  # order inside its passage


def _lines(text: str) -> list[str]:
    """The passage's lines, a line broken mid-sentence (PDF text) joined to the next one unless that one
    starts a list item, a numbered step or a table row."""
    joined: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        starts_block = not line or line.startswith("|") or _ITEM.match(line) is not None
        previous = joined[-1] if joined else ""
        if previous and not starts_block and previous[-1] not in ".!?:;|" and not previous.startswith("|"):
            joined[-1] = f"{previous} {line}"
        else:
            joined.append(line)
    return joined


def sentences(text: str) -> list[str]:
    """Plain sentences of a passage: markdown marks dropped, list items and table rows one each, a
    table row spelled with its header; lines without words skipped."""
    found: list[str] = []
    header: list[str] | None = None
    lines = _lines(text)
    for number, raw in enumerate(lines):
        line = _MARKUP.sub("", raw).strip()
        if line.startswith("|") or line.count("|") >= 2:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if _TABLE_RULE.match(line):
                continue
            following = lines[number + 1] if number + 1 < len(lines) else ""
            if header is None and _TABLE_RULE.match(following.strip()):
                header = cells
                continue
            if header and len(header) == len(cells):
                line = "; ".join(f"{name}: {value}" for name, value in zip(header, cells, strict=True))
            else:
                line = "; ".join(cells)
        else:
            header = None
        line = " ".join(_BULLET.sub("", line).split())
        if _WORD.search(line):
            # "1. Envie o formulário." is one step: its number is not a sentence of its own.
            step = _STEP.match(line)
            head, rest = (step.group(0), line[step.end() :]) if step else ("", line)
            parts = _SENTENCE_END.split(rest)
            found += [head + parts[0], *parts[1:]]
    return found


def _clip(sentence: str) -> str:
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return sentence
    cut = sentence[:MAX_SENTENCE_CHARS]
    cut = cut[: cut.rfind(" ")] if " " in cut else cut
    # A currency sign or unit left at the end would lose its number: it goes with it.
    cut = _DANGLING.sub("", cut)
    return cut.rstrip(" ,;:") + "…"


def _scores(
    asked: frozenset[str],
    candidates: list[Sentence],
    pattern: re.Pattern[str] | None,
    idf: Weigh,
    context: Sequence[frozenset[str]] = (),
) -> tuple[list[float], list[float]]:
    """Each candidate's score, and its coverage: the IDF-weighted share of the question's terms it holds.
    `context` holds each passage's heading terms: a term the sentence lacks but its heading has counts
    CONTEXT_WEIGHT of its weight (the sentence under "Frequência de limpeza" answers "how often")."""
    weight = {term: idf(term) for term in asked}
    total = sum(weight.values()) or 1.0
    scores, coverages = [], []
    for candidate in candidates:
        held = asked.intersection(terms(candidate.text))
        coverage = sum(weight[t] for t in held) / total
        headed = context[candidate.passage] - held if context else frozenset()
        score = coverage + CONTEXT_WEIGHT * sum(weight[t] for t in asked & headed) / total
        if pattern is not None:
            score *= 1 + TYPE_BONUS if pattern.search(fold(candidate.text)) else UNFIT
        if len(candidate.text.split()) < MIN_SENTENCE_WORDS:
            score *= 0.5
        scores.append(score / (1 + RANK_DECAY * candidate.passage))
        coverages.append(coverage)
    return scores, coverages


def _fits(question: str, sentence: str, pattern: re.Pattern[str] | None) -> bool:
    """Whether a sentence holds what the question asks for: a unit it names ("quantos GW") when it names
    one, else a thing of its type (a percentage, a deadline…)."""
    folded = fold(sentence)
    units = {unit.strip() for unit in _UNIT.findall(fold(question))}
    if units:
        return any(re.search(rf"(?<![a-z]){re.escape(unit)}(?![a-z])", folded) for unit in units)
    return pattern is None or pattern.search(folded) is not None


def _product_extract(asked: frozenset[str], passages: Sequence[Passage], idf: Weigh) -> Extract | None:
    """The best products and offers found, one sentence each (what it is, price, stock, who sells it)."""
    products = [p for p in passages if p.collection in PRODUCT_COLLECTIONS][:MAX_PRODUCTS]
    if not products:
        return None
    picked = [Sentence(_clip(p.text), index, 0) for index, p in enumerate(products)]
    _, coverages = _scores(asked, picked, None, idf)
    return Extract(_compose(picked, products), coverages[0], True)


def extract(
    question: str, passages: Sequence[Passage], intent: str = "general", idf: Weigh = lambda _: 1.0
) -> Extract | None:
    """The answer from the best passages, or None when no sentence shares a term with the question.
    A question about products is answered with products when it shops ("vocês têm…", "quanto
    custa…") or no document's sentence holds more of its terms; any other from the documents,
    products only when no document was found. `idf` weighs the question's terms (rarer ones count more).
    """
    asked = query_terms(question)
    documents = [p for p in passages if p.collection not in PRODUCT_COLLECTIONS]
    products = _product_extract(asked, passages, idf)
    answer = _document_extract(question, asked, documents[:MAX_PASSAGES], idf)
    if answer is None or products is None:
        return answer or products
    if intent in PRODUCT_INTENTS and (wants_products(question) or products.coverage >= answer.coverage):
        return products
    return answer


def _document_extract(
    question: str, asked: frozenset[str], best: Sequence[Passage], idf: Weigh
) -> Extract | None:
    candidates = [
        Sentence(_clip(text), index, position)
        for index, passage in enumerate(best)
        for position, text in enumerate(sentences(passage.text))
    ]
    kind = question_type(question)
    pattern = _KIND_PATTERNS.get(kind)
    headings = [frozenset(terms(f"{p.title} {p.section}")) for p in best]
    scores, coverages = _scores(asked, candidates, pattern, idf, headings)
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
    if not order or scores[order[0]] <= 0:
        return None
    first = order[0]
    chosen = [first]
    if kind in ("procedure", "definition", "other"):
        # Explanations and steps run on in the passage: the next sentences of the same passage.
        lead = candidates[first]
        chosen += [
            i
            for i, c in enumerate(candidates)
            if c.passage == lead.passage and lead.position < c.position <= lead.position + MAX_SUPPORT
        ]
    # Support from another document than the opening sentence's must score closer to it: a sentence
    # sharing the words is often about something else, and its citation would not support the answer.
    source = best[candidates[first].passage].source
    for i in order[1:]:
        if len(chosen) > MAX_SUPPORT:
            break
        share = SUPPORT_SHARE if best[candidates[i].passage].source == source else OTHER_DOCUMENT_SHARE
        if i not in chosen and scores[i] >= share * scores[first]:
            chosen.append(i)
    fits = _fits(question, candidates[first].text, pattern)
    return Extract(_compose([candidates[i] for i in chosen[: MAX_SUPPORT + 1]], best), coverages[first], fits)


def _compose(picked: list[Sentence], passages: Sequence[Passage]) -> Answer:
    numbers: dict[int, int] = {}
    quoted: dict[int, list[str]] = {}
    parts = []
    for sentence in picked:
        number = numbers.setdefault(sentence.passage, len(numbers) + 1)
        quoted.setdefault(sentence.passage, []).append(sentence.text)
        # The marker goes before the sentence's final stop: "… 60 % [1]."
        text = sentence.text.rstrip()
        stop = text[-1] if text[-1:] in ".!?" else "."
        parts.append(f"{text.rstrip('.!?')} [{number}]{stop}")
    citations: list[Citation] = [citation(passages[index], " ".join(quoted[index])) for index in numbers]
    return Answer(" ".join(parts), tuple(citations))
