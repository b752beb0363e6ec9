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

from catalog.query import MAX_QUERY_CHARS, SearchParams
from kernel.schemas import CATALOG_COLLECTION
from models.fallback import FallbackChain
from rag.assistant import (
    AskQuestion,
    AssistantOptions,
    EmbedQuery,
    HelioAssistant,
    KnowledgeIndex,
    Reply,
    VocabularyCache,
    elapsed_ms,
)
from rag.retrieval import RankedHit
from serve_app.ask_models import AskRequest, AskResponse, CitationView, FallbackView
from serve_app.ask_tools import SolarTool
from serve_app.config import AskOptions
from serve_app.recommend import KitRecommender
from serve_app.search import CatalogSearch


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
        results = await catalog_search.search(SearchParams(q=query[:MAX_QUERY_CHARS], limit=limit))
        return [
            RankedHit(CATALOG_COLLECTION, r.id, rank, {**r.model_dump(), "product_id": r.id}, None)
            for rank, r in enumerate(results)
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
