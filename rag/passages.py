"""A retrieved passage: what the prompt numbers for the model and what a citation points at."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Passage:
    collection: str  # one of kernel.schemas.KNOWLEDGE_COLLECTIONS
    id: str  # the point id in that collection
    title: str
    source: str  # document path or URL, or the catalog record it came from
    section: str  # heading path inside the document; "" when none
    text: str
    score: float  # retrieval score, higher is more relevant (scale depends on the search)
