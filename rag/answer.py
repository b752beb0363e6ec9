"""Answers and their citations: grounding a generated answer, the extractive answer when no engine can
generate, and the "don't know" answer when nothing relevant was found.

Citations are strict: a citation exists only for an [n] marker in the answer that points at the n-th
passage given to the model. Markers out of range are removed from the text; an answer citing nothing
gets no citations (we cannot tell which passage, if any, it used), and the caller decides what to do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.passages import Passage
from rag.text import fold, shorten

MAX_SNIPPET_CHARS = 240
MAX_QUOTE_CHARS = 300
# A best sentence shorter than this is quoted with the sentence after it.
SHORT_SENTENCE_CHARS = 80
DONT_KNOW = (
    "Não encontrei informação sobre isso nas bases do Hélio (catálogo, preços, regulação, material técnico "
    "e de vendas), então prefiro não responder sem fonte. Se puder, reformule a pergunta ou dê mais "
    "detalhes, como o modelo do equipamento ou a distribuidora."
)
EXTRACTIVE_INTRO = "Estes são os trechos das bases do Hélio mais próximos da sua pergunta:"
# Folded words too common to tell sentences apart.
_STOPWORD_TEXT = (
    "qual quais como para com que uma uns umas dos das nos nas por pelo pela sobre meu minha seu "
    "sua isso esse essa este esta sao tem ter quanto quanta quantos quantas onde quando porque pois "
    "mais menos muito ser sera foi pode posso preciso voce entre ate apos tambem ainda cada mesmo"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# [1], [2, 3], [1; 4] or [passagem 2]; at most two digits, so a bracketed year is not read as a marker.
_MARKER = re.compile(r"(\s?)\[(?i:passagem\s*)?(\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý\"“(])")
_MARKUP = re.compile(r"^\s*(?:#+|[-*+]|\d+\.)\s+|\*\*|__|`")
_TERM = re.compile(r"[a-z0-9]+")
_WORD = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class Citation:
    collection: str
    id: str
    title: str
    source: str
    snippet: str  # at most MAX_SNIPPET_CHARS


@dataclass(frozen=True)
class Answer:
    text: str
    citations: tuple[Citation, ...]


DONT_KNOW_ANSWER = Answer(DONT_KNOW, ())


def is_relevant(passages: Sequence[Passage], min_score: float) -> bool:
    """Whether any passage scores at least `min_score` (on the scale of the search that found them)."""
    return any(passage.score >= min_score for passage in passages)


def citations_for(answer_text: str, passages: Sequence[Passage]) -> list[Citation]:
    """One citation per passage the answer cites with a valid [n], in order of first citation."""
    return [citation(passages[number - 1]) for number in _cited(answer_text, len(passages))]


def grounded_answer(answer_text: str, passages: Sequence[Passage]) -> Answer:
    """The generated answer with markers renumbered to its citations ([k] is the k-th citation) and
    markers pointing at no given passage removed."""
    renumbered = {number: k for k, number in enumerate(_cited(answer_text, len(passages)), start=1)}

    def rewrite(match: re.Match[str]) -> str:
        kept = dict.fromkeys(renumbered[n] for n in _numbers(match) if n in renumbered)
        return f"{match.group(1)}[{', '.join(map(str, kept))}]" if kept else ""

    return Answer(_MARKER.sub(rewrite, answer_text).strip(), tuple(citations_for(answer_text, passages)))


def extractive_answer(question: str, passages: Sequence[Passage], *, max_passages: int = 3) -> Answer:
    """No generation: the best-scoring passages' sentences closest to the question, quoted with [n]."""
    best = sorted(passages, key=lambda passage: passage.score, reverse=True)[:max_passages]
    if not best:
        return DONT_KNOW_ANSWER
    lines = [EXTRACTIVE_INTRO]
    citations = []
    for number, passage in enumerate(best, start=1):
        quote = best_excerpt(passage.text, question)
        lines.append(f"[{number}] “{quote}” — {passage.title or passage.source}")
        citations.append(citation(passage, quote))
    return Answer("\n\n".join(lines), tuple(citations))


def best_excerpt(text: str, question: str) -> str:
    """The sentence sharing most terms with the question (the earliest on a tie), with the next one when
    it is short, cut to MAX_QUOTE_CHARS."""
    sentences = _sentences(text)
    if not sentences:
        return ""
    terms = _terms(question)
    overlaps = [len(terms & _terms(sentence)) for sentence in sentences]
    index = overlaps.index(max(overlaps))
    quote = sentences[index]
    if len(quote) < SHORT_SENTENCE_CHARS and index + 1 < len(sentences):
        quote = f"{quote} {sentences[index + 1]}"
    return shorten(quote, MAX_QUOTE_CHARS)


def citation(passage: Passage, excerpt: str | None = None) -> Citation:
    text = " ".join((passage.text if excerpt is None else excerpt).split())
    return Citation(
        passage.collection, passage.id, passage.title, passage.source, shorten(text, MAX_SNIPPET_CHARS)
    )


def _sentences(text: str) -> list[str]:
    """Sentences of plain text, markdown marks and table pipes dropped; lines with no word skipped."""
    lines = (" ".join(_MARKUP.sub("", line).strip(" |").split()) for line in text.splitlines())
    return [sentence for line in lines if _WORD.search(line) for sentence in _SENTENCE_END.split(line)]


def _cited(answer_text: str, count: int) -> list[int]:
    numbers = (number for match in _MARKER.finditer(answer_text) for number in _numbers(match))
    return list(dict.fromkeys(number for number in numbers if 1 <= number <= count))


def _numbers(match: re.Match[str]) -> list[int]:
    return [int(part) for part in re.split(r"\s*[,;]\s*", match.group(2))]


def _terms(text: str) -> frozenset[str]:
    return frozenset(
        term
        for term in _TERM.findall(fold(text))
        if (len(term) >= 3 or term.isdigit()) and term not in STOPWORDS
    )
