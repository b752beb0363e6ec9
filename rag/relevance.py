"""Whether the passages found can answer the question: a calibrated decision on the evidence, not a bare
cosine threshold.

A cosine with MiniLM (an English model) says little on its own about Portuguese text: an off-topic
question still lands around 0.3 on some passage. The lexical side says more — a question about a cake
recipe shares no stemmed term with the solar corpus, and one about a topic the corpus lacks ("tarifa
branca da Copel") leaves its specific terms unmatched, or names terms no passage of the knowledge bases
holds at all (the `Vocabulary`). The gate is a logistic model over seven features, fitted on the dev
split of the evaluation set (`python -m scripts.eval_ask --tune`); its coefficients are the defaults
below, and its threshold is where the two kinds of error (refusals missed, answerable questions refused)
add up to the least on dev.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from rag.analysis import terms
from rag.extractive import Extract
from rag.passages import Passage

EVIDENCE_PASSAGES = 3  # the best passages the lexical evidence is read from
KNOWN_PREFIX = 5  # letters a term shares with a known one to count as known
FEATURES = ("similarity", "coverage", "lead_coverage", "unknown", "missing_rare", "in_domain", "fits")


class Vocabulary:
    """Document frequencies of the knowledge collections' terms: how rare a term of the question is where
    Hélio looks (a term no passage holds is the rarest of all)."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.documents = 0
        self._frequency: Counter[str] = Counter()
        for text in texts:
            self.documents += 1
            self._frequency.update(set(terms(text)))
        self._prefixes = {term[:KNOWN_PREFIX] for term in self._frequency if len(term) >= KNOWN_PREFIX}

    def knows(self, term: str) -> bool:
        """Held by some passage, or sharing its first letters with a term that is: the stemmer leaves
        some verb forms apart ("confiro" → "confir", "conferir" → "confer" is not caught, "descasco" and
        "descascar" are)."""
        return term in self._frequency or (
            len(term) >= KNOWN_PREFIX and term[:KNOWN_PREFIX] in self._prefixes
        )

    def idf(self, term: str) -> float:
        return math.log(1 + (self.documents + 1) / (self._frequency.get(term, 0) + 0.5))


@dataclass(frozen=True)
class Evidence:
    similarity: float  # the best dense cosine of any passage found
    coverage: float  # IDF-weighted share of the question's terms found in the best passages together
    lead_coverage: float  # … in the sentence the answer would open with
    unknown: float  # share of the question's words (not numbers) no passage of the knowledge bases holds
    missing_rare: float  # the rarest word the best passages lack, its IDF over the highest IDF (0–1)
    in_domain: bool  # a routing rule fired (the question names something of the trade)
    fits: bool  # that sentence holds what the question type asks for (a %, a deadline, a quantity…)

    def features(self) -> tuple[float, ...]:
        return (
            self.similarity,
            self.coverage,
            self.lead_coverage,
            self.unknown,
            self.missing_rare,
            float(self.in_domain),
            float(self.fits),
        )


def evidence(
    question_terms: Collection[str],
    passages: Sequence[Passage],
    similarity: float,
    in_domain: bool,
    vocabulary: Vocabulary,
    lead: Extract | None,
) -> Evidence:
    """The evidence for a question: `similarity` is the best cosine of any dense hit."""
    asked = frozenset(question_terms)
    if not asked:
        return Evidence(similarity, 0.0, 0.0, 1.0, 1.0, in_domain, False)
    # A number is no topic: "800 kWh" or a house number says nothing about what the corpus covers.
    words = [term for term in asked if not term[0].isdigit()]
    unknown = sum(not vocabulary.knows(term) for term in words) / len(words) if words else 0.0
    best = passages[:EVIDENCE_PASSAGES]
    held = frozenset().union(*(asked.intersection(terms(f"{p.title} {p.text}")) for p in best))
    missing = max((vocabulary.idf(t) for t in words if t not in held), default=0.0) / vocabulary.idf("")
    if lead is None:
        return Evidence(similarity, 0.0, 0.0, unknown, missing, in_domain, False)
    weight = {term: vocabulary.idf(term) for term in asked}
    coverage = sum(weight[t] for t in held) / sum(weight.values())
    return Evidence(similarity, coverage, lead.coverage, unknown, missing, in_domain, lead.fits)


class RelevanceGate(BaseModel):
    """Logistic model over `FEATURES`: relevant when its probability reaches `threshold`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: tuple[float, float, float, float, float, float, float] = Field(
        default=(2.308, 2.583, 4.523, -6.267, -1.009, 0.998, 1.49),
        description=f"One per feature: {', '.join(FEATURES)}.",
    )
    bias: float = Field(default=-4.077)
    threshold: float = Field(default=0.401, gt=0, lt=1, description="Probability at which Hélio answers.")

    def probability(self, found: Evidence) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, found.features(), strict=True))
        return 1 / (1 + math.exp(-z))

    def relevant(self, found: Evidence) -> bool:
        return self.probability(found) >= self.threshold
