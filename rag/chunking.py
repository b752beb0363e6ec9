"""Documents → chunks to embed, and the plan that keeps a collection in step with a corpus.

Pure. A chunk never crosses a heading: each section is cut on its own into windows of `chunk_words`
words that overlap by `overlap_words` (the last window ends at the section's end). The embedded text
is prefixed with the document title and the heading path, so a short chunk still says what it is
about. A chunk's point id is a uuid5 of (collection, source, position, content hash): a chunk that
did not change keeps its id, and an edited document replaces exactly the chunks whose text moved.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, model_validator

from rag.analysis import ANALYZER_VERSION
from rag.documents import Document

CHUNK_NAMESPACE = uuid.UUID("6f1d2a52-3c1e-4d55-9a57-5b0c2f7e8a11")
SECTION_SEPARATOR = " › "
INDEX_STATE_FIELDS = ("source", "content_hash", "embedded_with", "lexical")
_WORD = re.compile(r"\S+")


class ChunkingConfig(BaseModel):
    chunk_words: int = Field(default=180, ge=8, description="Words per chunk, at most.")
    overlap_words: int = Field(default=40, ge=0, description="Words a chunk repeats from the one before.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkingConfig:
        if self.overlap_words >= self.chunk_words:
            raise ValueError("overlap_words must be smaller than chunk_words")
        return self


@dataclass(frozen=True)
class Chunk:
    source: str
    title: str
    section: tuple[str, ...]  # heading path
    position: int  # 0, 1, … within the document
    text: str  # the passage as written
    content_hash: str  # of the embedded text

    @property
    def embedded_text(self) -> str:
        return embedded_text(self.title, self.section, self.text)

    def point_id(self, collection: str) -> str:
        key = "\x1f".join((collection, self.source, str(self.position), self.content_hash))
        return str(uuid.uuid5(CHUNK_NAMESPACE, key))

    def payload(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "section": list(self.section),
            "position": self.position,
            "text": self.text,
            "content_hash": self.content_hash,
            "lexical": ANALYZER_VERSION,
        }


def embedded_text(title: str, section: Sequence[str], text: str) -> str:
    path = [h for h in section if h != title]  # the h1 that became the title is not repeated
    head = f"{title}{SECTION_SEPARATOR}{SECTION_SEPARATOR.join(path)}" if path else title
    return f"{head}\n\n{text}"


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def windows(word_count: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """[start, end) word ranges covering `word_count` words: `size` long, each starting `size - overlap`
    after the one before; the last one ends at the end (overlapping more rather than leaving a stub)."""
    if word_count <= size:
        return [(0, word_count)] if word_count else []
    step = size - overlap
    starts = list(range(0, word_count - size, step))
    return [(start, start + size) for start in starts] + [(word_count - size, word_count)]


def chunk_document(document: Document, config: ChunkingConfig) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in document.sections:
        spans = [match.span() for match in _WORD.finditer(section.text)]
        for start, end in windows(len(spans), config.chunk_words, config.overlap_words):
            text = section.text[spans[start][0] : spans[end - 1][1]]
            chunks.append(
                Chunk(
                    source=document.source,
                    title=document.title,
                    section=section.heading,
                    position=len(chunks),
                    text=text,
                    content_hash=content_hash(embedded_text(document.title, section.heading, text)),
                )
            )
    return chunks


@dataclass
class SyncPlan:
    """What to do to one collection. Chunk counts, except `rejected` (documents)."""

    to_embed: list[tuple[str, Chunk]] = field(default_factory=list)  # (point id, chunk)
    to_delete: list[str] = field(default_factory=list)
    added: int = 0  # chunks of documents the index did not hold
    updated: int = 0  # chunks re-embedded for documents it held (edited, or missing a model's vector)
    unchanged: int = 0
    removed: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
        }


def plan_sync(
    collection: str,
    chunks: Iterable[Chunk],
    stored: Mapping[str, Mapping[str, Any]],
    vector_names: Sequence[str],
    keep_sources: Iterable[str] = (),
) -> SyncPlan:
    """Embed chunks the index lacks (or holds without a configured model's vector, or analysed by another
    version of the lexical analysis); delete points whose chunk is gone. `keep_sources` are documents
    that could not be read this time: their points stay."""
    plan = SyncPlan()
    known_sources = {str(state.get("source")) for state in stored.values()}
    wanted: set[str] = set()
    for chunk in chunks:
        point_id = chunk.point_id(collection)
        wanted.add(point_id)
        state = stored.get(point_id)
        if (
            state is not None
            and set(vector_names) <= set(state.get("embedded_with") or ())
            and state.get("lexical") == ANALYZER_VERSION
        ):
            plan.unchanged += 1
            continue
        plan.to_embed.append((point_id, chunk))
        if chunk.source in known_sources:
            plan.updated += 1
        else:
            plan.added += 1
    kept = set(keep_sources)
    plan.to_delete = sorted(
        point_id
        for point_id, state in stored.items()
        if point_id not in wanted and str(state.get("source")) not in kept
    )
    plan.removed = len(plan.to_delete)
    return plan
