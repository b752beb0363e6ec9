"""`POST /store/helio/ask` on Serve's side: the assistant built from the app's configuration, and its
replies as the route's JSON or Server-Sent Events. The pipeline itself is `rag.assistant`.

Streaming shows only what stands: an `answer` event with the first reply (calculated, extractive or
"don't know") as soon as retrieval is done, a `replace` event if a checked generation improves on it,
then `done` with the whole response. Text that would be withdrawn is never sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from catalog.query import MAX_QUERY_CHARS, SearchParams
from kernel.schemas import CATALOG_COLLECTION
from models.fallback import FallbackChain
from rag.assistant import (
    AskQuestion,
    AssistantOptions,
    EmbedQuery,
    GenerationPolicy,
    HelioAssistant,
    KnowledgeIndex,
    Reply,
    VocabularyCache,
    elapsed_ms,
)
from rag.relevance import RelevanceGate
from rag.retrieval import RankedHit
from services.ask_models import AskRequest, AskResponse, CitationView, FallbackView
from services.ask_tools import SolarTool
from services.recommend import KitRecommender
from services.search import CatalogSearch


class AskOptions(BaseModel):
    """Retrieval, relevance, answer and generation of `/store/helio/ask` (the `ask` of the Serve config)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt option fails the deploy

    per_collection: int = Field(
        default=8, ge=1, description="Hits per search (dense, lexical) per collection."
    )
    passages: int = Field(default=6, ge=1, description="Fused passages kept (the extractive answer's pool).")
    prompt_passages: int = Field(default=6, ge=1, description="Of those, the best ones given to the model.")
    max_context_chars: int = Field(default=6000, ge=200, description="Passage text budget of the prompt.")
    max_tokens: int = Field(default=256, ge=1, description="Longest answer, in tokens.")
    temperature: float = Field(default=0.2, ge=0, le=2)
    rrf_k: int = Field(default=1, ge=1, description="RRF rank constant of the cross-collection fusion.")
    lexical_weight: float = Field(
        default=3.0, ge=0, description="RRF weight of a lexical (BM25) list relative to a dense one."
    )
    secondary_weight: float = Field(
        default=0.75,
        ge=0,
        le=1,
        description="RRF weight of the document collections the router left out; 0 searches its pick only.",
    )
    gate: RelevanceGate = Field(
        default_factory=RelevanceGate, description="When Hélio answers rather than says it does not know."
    )
    generate: GenerationPolicy = Field(
        default="off",
        description=(
            "When the chat chain writes the answer: `off` (extractive answers only), `synthesis` "
            "(explanations drawing on several passages), `always`. A generation replaces the extractive "
            "answer only when it cites its passages and states no number they do not hold."
        ),
    )
    vocabulary_refresh_s: float = Field(
        default=600.0, gt=0, description="How often the relevance gate's vocabulary is counted again."
    )
    generation_budget_s: float = Field(
        default=10.0, gt=0, description="Longest wait for a generation; past it the extractive answer stands."
    )


def build_assistant(
    *,
    embed: EmbedQuery,
    index: KnowledgeIndex,
    chain: FallbackChain,
    options: AskOptions,
    vector_name: str,
    recommender: KitRecommender | None = None,
    catalog_search: CatalogSearch | None = None,
) -> HelioAssistant:
    """The assistant as every entry point runs it: the router, the eval, the tests."""

    async def product_search(query: str, limit: int) -> list[RankedHit]:
        assert catalog_search is not None
        page = await catalog_search.search(SearchParams(q=query[:MAX_QUERY_CHARS], limit=limit))
        return [
            RankedHit(CATALOG_COLLECTION, r.id, rank, {**r.model_dump(), "product_id": r.id}, None)
            for rank, r in enumerate(page.results)
        ]

    settings = options.model_dump(exclude={"gate", "vocabulary_refresh_s"})
    return HelioAssistant(
        embed=embed,
        index=index,
        chain=chain,
        options=AssistantOptions(vector_name=vector_name, **settings, gate=options.gate),
        vocabulary=VocabularyCache(index, options.vocabulary_refresh_s),
        calculator=SolarTool(recommender) if recommender is not None else None,
        product_search=product_search if catalog_search is not None else None,
    )


def question_of(request: AskRequest) -> AskQuestion:
    return AskQuestion(request.question, [turn.model_dump() for turn in request.history], request.context)


def response(reply: Reply, started: float) -> AskResponse:
    prepared = reply.prepared
    return AskResponse(
        answer=reply.answer.text,
        citations=[CitationView(**vars(citation)) for citation in reply.answer.citations],
        engine=reply.engine,
        fallback=[FallbackView(engine=f.engine, reason=f.reason) for f in reply.fallback],
        took_ms=elapsed_ms(started),
        intent=prepared.route.intent,
        collections=list(prepared.route.collections),
        notes=prepared.notes,
    )


async def answer_question(assistant: HelioAssistant, request: AskRequest) -> AskResponse:
    started = time.perf_counter()
    return response(await assistant.ask(question_of(request)), started)


async def ask_events(assistant: HelioAssistant, request: AskRequest) -> AsyncIterator[str]:
    """The SSE stream of a question. Retrieval runs before this returns, so a dependency down is still
    an HTTP error rather than a broken stream."""
    started = time.perf_counter()
    replies = await assistant.replies(question_of(request))
    return _events(replies, started)


async def _events(replies: AsyncIterator[Reply], started: float) -> AsyncIterator[str]:
    last: AskResponse | None = None
    async for reply in replies:
        shown = response(reply, started)
        if last is None:
            yield _event("answer", _shown(shown))
        elif shown.answer != last.answer:
            yield _event("replace", _shown(shown))
        last = shown
    assert last is not None
    yield _event("done", last.model_dump())


def _shown(shown: AskResponse) -> dict[str, Any]:
    return {
        "answer": shown.answer,
        "citations": [c.model_dump() for c in shown.citations],
        "engine": shown.engine,
    }


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
