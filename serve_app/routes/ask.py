"""POST /store/helio/ask: Hélio's answer (`services.ask`), as JSON or as Server-Sent Events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response, StreamingResponse

from rag.assistant import HelioAssistant
from serve_app.errors import ErrorBody
from serve_app.routes import service_on_state
from services.ask import answer_question, ask_events
from services.ask_models import AskRequest, AskResponse

AssistantDep = Annotated[HelioAssistant, Depends(service_on_state("assistant", "assistant"))]
routes = APIRouter()


@routes.post(
    "/store/helio/ask",
    response_model=AskResponse,
    summary="Ask Hélio",
    description=(
        "Routes the question to the knowledge bases it concerns (catalog, prices, regulation, technical, "
        "sales) and retrieves with hybrid search (dense + Portuguese BM25). When the evidence cannot answer, "
        "Hélio says it does not know. A consumption and a place (in the question or the context) are "
        "answered from the recommend engine's figures, the one asked for first; otherwise the answer opens "
        "with the sentence that answers, each sentence cited. A generation replaces it only when configured, "
        "citing its passages and stating no number they do not hold. "
        'With `"stream": true`: Server-Sent Events, an `answer` event at once, a `replace` event if '
        "a checked generation improves on it, then one `done` event with this body."
    ),
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when `stream` is true."},
        422: {"model": ErrorBody, "description": "Empty or too long question, bad history or context"},
        503: {"model": ErrorBody, "description": "The vector index or the query embedder is down"},
    },
    tags=["ask"],
)
async def ask(request: AskRequest, assistant: AssistantDep) -> Response:
    if request.stream:
        events = await ask_events(assistant, request)
        return StreamingResponse(
            events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )
    return JSONResponse((await answer_question(assistant, request)).model_dump())
