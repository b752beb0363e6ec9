"""Answers and their citations: grounding a generated answer, and the "don't know" answer when nothing
relevant was found (the extractive answer is rag.extractive).

Citations are strict: a citation exists only for an [n] marker in the answer that points at the n-th
passage given to the model. Markers out of range are removed from the text; an answer citing nothing
gets no citations (we cannot tell which passage, if any, it used), and the caller decides what to do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.passages import Passage
from rag.text import shorten

MAX_SNIPPET_CHARS = 240
DONT_KNOW = (
    "Não encontrei informação sobre isso nas bases do Hélio (catálogo, preços, regulação, material técnico "
    "e de vendas), então prefiro não responder sem fonte. Se puder, reformule a pergunta ou dê mais "
    "detalhes, como o modelo do equipamento ou a distribuidora."
)
# [1], [2, 3], [1; 4] or [passagem 2]; at most two digits, so a bracketed year is not read as a marker.
_MARKER = re.compile(r"(\s?)\[(?i:passagem\s*)?(\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\]")


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


def citation(passage: Passage, excerpt: str | None = None) -> Citation:
    text = " ".join((passage.text if excerpt is None else excerpt).split())
    return Citation(
        passage.collection, passage.id, passage.title, passage.source, shorten(text, MAX_SNIPPET_CHARS)
    )


def _cited(answer_text: str, count: int) -> list[int]:
    numbers = (number for match in _MARKER.finditer(answer_text) for number in _numbers(match))
    return list(dict.fromkeys(number for number in numbers if 1 <= number <= count))


def _numbers(match: re.Match[str]) -> list[int]:
    return [int(part) for part in re.split(r"\s*[,;]\s*", match.group(2))]
