"""The LLM engine hanging: Hélio's ask (JSON or streamed) gives up on it at the chain's timeout and
answers with the next engine, or with the extractive answer when none is left, saying that the hung
one timed out.

The hanging engine is the OpenAI-compatible client against a local stand-in for the service (which cannot
run here) scripted to hold its answer far past the chain's timeout; retrieval is real (MiniLM, Qdrant
Edge holding one document of the shipped corpus, indexed by the knowledge-bases job's sync)."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator

import psycopg
import pytest

from common.resources import Resources
from common.settings import PROJECT_ROOT, Settings
from common.vectors.client import DirectVectorIndex
from common.vectors.edge import EdgeVectorStore
from kernel.chat import ChatEngine
from models.embedders import SentenceTransformerEmbedder
from models.fallback import FallbackChain
from models.openai_engine import OpenAICompatibleConfig, OpenAICompatibleEngine
from rag.assistant import EXTRACTIVE, HelioAssistant
from rag.relevance import RelevanceGate
from ray_jobs.knowledge_bases import KnowledgeJobConfig, TextEncoder, sync
from services.ask import AskOptions, answer_question, ask_events, build_assistant
from services.ask_models import AskRequest, AskResponse
from tests.conftest import new_database
from tests.openai_chat_stand_in import ChatStandIn, running_chat_stand_in

pytestmark = pytest.mark.slow

DOCUMENT = "regulatory/compensacao-creditos.md"
QUESTION = "Quanto tempo valem os créditos de energia excedente?"
TIMEOUT_S = 1.0  # the chain's per-engine timeout
HANG_S = 120.0  # how long the hung engine would take: the ask must not wait for it
# Room for embedding and retrieval on this slow, shared machine; still far below HANG_S.
MARGIN_S = 15.0


@pytest.fixture(scope="module")
def store(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings, minilm: SentenceTransformerEmbedder
) -> Iterator[EdgeVectorStore]:
    corpus = tmp_path_factory.mktemp("hang-corpus")
    (corpus / DOCUMENT).parent.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "rag" / "corpus" / DOCUMENT, corpus / DOCUMENT)
    store = EdgeVectorStore(tmp_path_factory.mktemp("hang-index"))
    config = KnowledgeJobConfig(source=str(corpus), pricing=False)
    with psycopg.connect(new_database(settings)) as conn:
        sync(config, Resources(settings, vectors=store), TextEncoder(config, settings, local=[minilm]), conn)
    yield store
    store.close()


@pytest.fixture
def stand_in() -> Iterator[ChatStandIn]:
    with running_chat_stand_in() as server:  # on exit it releases the still hanging handler
        yield server


def engine(stand_in: ChatStandIn, name: str) -> OpenAICompatibleEngine:
    return OpenAICompatibleEngine(
        OpenAICompatibleConfig(name=name, base_url=stand_in.base_url, api_key="sk-test", model="gpt-x")
    )


async def answer(helio: HelioAssistant, stream: bool) -> AskResponse:
    """The JSON answer, or the streamed one's closing `done` event."""
    request = AskRequest(question=QUESTION)
    if not stream:
        return await answer_question(helio, request)
    events = [event async for event in await ask_events(helio, request)]
    assert events[-1].startswith("event: done\n")
    return AskResponse.model_validate_json(events[-1].split("data: ", 1)[1])


def timed_ask(
    store: EdgeVectorStore, minilm: SentenceTransformerEmbedder, engines: list[ChatEngine], stream: bool
) -> tuple[AskResponse, float]:
    async def embed(text: str) -> list[float]:
        return [float(x) for x in minilm.embed([text])[0]]

    helio = build_assistant(
        embed=embed,
        index=DirectVectorIndex(store),
        chain=FallbackChain(engines, timeout_s=TIMEOUT_S),
        # One document indexed: the relevance gate (not under test here) would refuse, so it lets all pass.
        options=AskOptions(generate="always", gate=RelevanceGate(threshold=1e-4)),
        vector_name=minilm.name,
    )
    started = time.monotonic()
    response = asyncio.run(answer(helio, stream))
    return response, time.monotonic() - started


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("with_backup", [True, False], ids=["next-engine", "extractive"])
def test_a_hung_engine_is_skipped_within_the_timeout(
    store: EdgeVectorStore,
    minilm: SentenceTransformerEmbedder,
    stand_in: ChatStandIn,
    with_backup: bool,
    stream: bool,
) -> None:
    stand_in.hang(HANG_S)  # the first request only: the backup's is answered at once
    stand_in.reply("Os créditos valem por 60 meses [1].")
    engines: list[ChatEngine] = [engine(stand_in, "hung")]
    if with_backup:
        engines.append(engine(stand_in, "backup"))

    response, elapsed_s = timed_ask(store, minilm, engines, stream)

    assert elapsed_s < TIMEOUT_S + MARGIN_S < HANG_S
    assert [(f.engine, f.reason) for f in response.fallback] == [("hung", f"timed out after {TIMEOUT_S:g} s")]
    if with_backup:
        assert response.engine == "backup" and response.answer == "Os créditos valem por 60 meses [1]."
    else:
        assert response.engine == EXTRACTIVE and "60 meses" in response.answer
    assert {citation.source for citation in response.citations} == {DOCUMENT}
    assert len(stand_in.requests) == len(engines)  # the hung engine was asked once, not retried
