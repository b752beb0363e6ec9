"""The answer pipeline on its own, table-tested: every engine is a stand-in passed in (an index of a few
passages, a constant embedder, scripted chat engines), so each step's decision is what is checked.
With the real parts (MiniLM, Qdrant Edge, llama.cpp), see tests/serve_app/test_ask.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from kernel.chat import ChatRequest, ChatResult, EngineUnavailable
from kernel.schemas import REGULATORY_COLLECTION, SALES_COLLECTION
from kernel.vectors import Hit, SearchRequest
from models.fallback import FallbackChain
from rag.answer import DONT_KNOW
from rag.assistant import (
    CALCULATION,
    EXTRACTIVE,
    NO_CONSUMPTION,
    NO_ENGINE,
    UNCITED,
    AskQuestion,
    AssistantOptions,
    Calculation,
    GenerationPolicy,
    HelioAssistant,
    Reply,
    VocabularyCache,
    check_generation,
)
from rag.passages import Passage
from rag.relevance import RelevanceGate

DOCUMENTS = {
    REGULATORY_COLLECTION: [
        ("fio-b", "O Fio B é a componente da TUSD que remunera a rede da distribuidora. "
                  "Em 2026 a energia compensada paga 60 % do Fio B."),
        ("creditos", "Os créditos de energia expiram em 60 meses após a geração."),
    ],
    SALES_COLLECTION: [
        ("payback", "O payback simples divide o investimento pela economia anual. "
                    "O payback descontado traz a economia a valor presente."),
    ],
}  # fmt: skip


class StandInIndex:
    """Dense search ranks every passage of a collection, lexical search the ones sharing a word."""

    def __init__(self, missing: Sequence[str] = ()) -> None:
        self.missing = set(missing)
        self.searches = 0

    async def search(self, request: SearchRequest, collection: str) -> list[Hit]:
        self.searches += 1
        if collection in self.missing or collection not in DOCUMENTS:
            raise LookupError(collection)
        rows = DOCUMENTS[collection]
        payload = [{"text": text, "title": name, "source": f"{name}.md"} for name, text in rows]
        if request.dense is not None:
            return [Hit(name, 0.6, p) for (name, _), p in zip(rows, payload, strict=True)]
        return [Hit(name, 1.0, p) for (name, _), p in zip(rows, payload, strict=True)]

    async def texts(self, collection: str, fields: Sequence[str]) -> list[str]:
        if collection not in DOCUMENTS:
            raise LookupError(collection)
        return [text for _, text in DOCUMENTS[collection]]


class ScriptedEngine:
    def __init__(self, text: str | None, delay_s: float = 0.0) -> None:
        self.name, self.text, self.delay_s, self.calls = "scripted", text, delay_s, 0

    async def generate(self, request: ChatRequest) -> ChatResult:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        if self.text is None:
            raise EngineUnavailable("down")
        return ChatResult(
            text=self.text, engine=self.name, prompt_tokens=1, completion_tokens=1, duration_s=self.delay_s
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        # The pipeline asks for whole answers only (a generation is checked before it is shown).
        yield (await self.generate(request)).text


async def embed(text: str) -> list[float]:
    return [1.0, 0.0]


async def calculator(question: str, context: dict[str, Any]) -> Calculation | str | None:
    if "kwh" not in question.lower() and "consumption_kwh_month" not in context:
        return None
    if "Atlantis" in question:
        return "sizing not computed: unknown place Atlantis"
    passage = Passage("helio-tools", "recommend", "Cálculo", "POST /store/helio/recommend", "",
                      "Sistema de 5,20 kWp; payback simples de 4,8 anos.", 1.0)  # fmt: skip
    return Calculation(passage, {"size": "O sistema tem 5,20 kWp.", "payback": "O payback é de 4,8 anos."})


def helio(
    engine: ScriptedEngine | None = None,
    generate: GenerationPolicy = "off",
    budget_s: float = 5.0,
    index: StandInIndex | None = None,
) -> HelioAssistant:
    index = index or StandInIndex()
    options = AssistantOptions(
        vector_name="v", per_collection=4, passages=6, prompt_passages=4, max_context_chars=4000,
        max_tokens=64, temperature=0.0, rrf_k=1, lexical_weight=3.0, secondary_weight=0.75,
        gate=RelevanceGate(), generate=generate, generation_budget_s=budget_s,
    )  # fmt: skip
    return HelioAssistant(
        embed=embed,
        index=index,
        chain=FallbackChain([engine] if engine else [], timeout_s=10),
        options=options,
        vocabulary=VocabularyCache(index, refresh_s=3600),
        calculator=calculator,
    )


def ask(assistant: HelioAssistant, question: str, **context: Any) -> Reply:
    return asyncio.run(assistant.ask(AskQuestion(question, (), context)))


def test_an_answerable_question_gets_the_extractive_answer_leading_with_the_fact() -> None:
    reply = ask(helio(), "Quanto do Fio B a energia compensada paga em 2026?")
    assert reply.engine == EXTRACTIVE and reply.answer.text.startswith(
        "Em 2026 a energia compensada paga 60 %"
    )
    assert reply.answer.citations[0].source == "fio-b.md"


def test_an_off_topic_question_is_refused_without_asking_any_engine() -> None:
    engine = ScriptedEngine("Bolo [1].")
    reply = ask(helio(engine, generate="always"), "Qual a receita de bolo de cenoura com chocolate?")
    assert (reply.answer.text, reply.engine, reply.answer.citations) == (DONT_KNOW, NO_ENGINE, ())
    assert engine.calls == 0


@pytest.mark.parametrize(
    ("question", "context", "opening"),
    [
        ("Qual o payback para 800 kWh por mês?", {}, "O payback é de 4,8 anos [1]."),
        ("Qual o tamanho do sistema?", {"consumption_kwh_month": 800}, "O sistema tem 5,20 kWp [1]."),
    ],
)
def test_a_calculation_answers_with_the_figure_asked_first(
    question: str, context: dict[str, Any], opening: str
) -> None:
    reply = ask(helio(ScriptedEngine("Inventado [1]."), generate="always"), question, **context)
    assert reply.engine == CALCULATION and reply.answer.text.startswith(opening)
    assert [c.source for c in reply.answer.citations] == ["POST /store/helio/recommend"]


def test_what_a_calculation_lacked_is_noted() -> None:
    assert NO_CONSUMPTION in ask(helio(), "Qual o payback de um sistema solar?").prepared.notes
    assert any(
        "Atlantis" in note for note in ask(helio(), "Qual o payback para 800 kWh em Atlantis?").prepared.notes
    )


def test_a_missing_collection_is_noted_and_the_rest_answers() -> None:
    reply = ask(helio(index=StandInIndex(missing=[SALES_COLLECTION])), "Os créditos de energia expiram?")
    assert reply.engine == EXTRACTIVE and "60 meses" in reply.answer.text
    assert any(SALES_COLLECTION in note for note in reply.prepared.notes)


@pytest.mark.parametrize(
    ("policy", "question", "tried"),
    [
        ("off", "Qual a diferença entre payback simples e descontado?", False),
        ("synthesis", "Quanto do Fio B a energia compensada paga em 2026?", False),  # one fact: no synthesis
        ("synthesis", "Qual a diferença entre payback simples e o Fio B na rede?", True),  # several sources
        ("always", "Quanto do Fio B a energia compensada paga em 2026?", True),
    ],
)
def test_generation_runs_only_where_the_policy_says(
    policy: GenerationPolicy, question: str, tried: bool
) -> None:
    engine = ScriptedEngine("O Fio B é parte da TUSD [1].")
    ask(helio(engine, generate=policy), question)
    assert engine.calls == int(tried)


@pytest.mark.parametrize(
    ("generated", "kept", "reason"),
    [
        ("O Fio B paga 60 % em 2026 [1].", True, None),
        ("O Fio B paga 60 % em 2026.", False, UNCITED),
        ("O Fio B paga 80 % em 2026 [1].", False, "it states numbers its passages do not hold: 80"),
        ("O Fio B paga 60 % em 2026 [7].", False, UNCITED),  # a marker pointing at no passage given
    ],
)
def test_a_generation_replaces_the_extractive_answer_only_when_it_checks(
    generated: str, kept: bool, reason: str | None
) -> None:
    reply = ask(
        helio(ScriptedEngine(generated), generate="always"), "Quanto do Fio B a energia compensada paga?"
    )
    assert reply.generated is kept
    if kept:
        assert reply.engine == "scripted" and reply.answer.text == generated
    else:
        assert reply.engine == EXTRACTIVE and [f.reason for f in reply.fallback] == [reason]


def test_a_generation_over_its_budget_leaves_the_extractive_answer() -> None:
    reply = ask(
        helio(ScriptedEngine("Tarde [1].", delay_s=2.0), generate="always", budget_s=0.2),
        "Quanto do Fio B a energia compensada paga em 2026?",
    )
    assert reply.engine == EXTRACTIVE and reply.fallback[0].reason == "over the 0.2 s budget"


def test_every_engine_down_leaves_the_extractive_answer_with_the_reason() -> None:
    reply = ask(helio(ScriptedEngine(None), generate="always"), "Quanto do Fio B a energia compensada paga?")
    assert reply.engine == EXTRACTIVE and [(f.engine, f.reason) for f in reply.fallback] == [
        ("scripted", "down")
    ]


def replies(assistant: HelioAssistant, question: str) -> list[Reply]:
    async def drain() -> list[Reply]:
        return [reply async for reply in await assistant.replies(AskQuestion(question))]

    return asyncio.run(drain())


@pytest.mark.parametrize(
    ("engine", "policy", "engines"),
    [
        (None, "off", [EXTRACTIVE]),
        (ScriptedEngine("O Fio B paga 60 % [1]."), "always", [EXTRACTIVE, "scripted"]),
        (
            ScriptedEngine("O Fio B paga 90 % [1]."),
            "always",
            [EXTRACTIVE, EXTRACTIVE],
        ),  # discarded: same answer
    ],
)
def test_the_stream_shows_the_extractive_answer_first_and_never_a_discarded_text(
    engine: ScriptedEngine | None, policy: GenerationPolicy, engines: list[str]
) -> None:
    received = replies(helio(engine, generate=policy), "Quanto do Fio B a energia compensada paga?")
    assert [r.engine for r in received] == engines
    assert all("90 %" not in r.answer.text for r in received)


@pytest.mark.parametrize(
    ("text", "question", "verdict"),
    [
        ("Em 2026 paga 60 % [1].", "", "ok"),
        ("Em 2026 paga 60 % [1].", "e em 2031?", "ok"),
        ("Em 2031 paga 60 % [1].", "", "numbers"),
        ("Em 2031 paga 60 % [1].", "e em 2031?", "ok"),  # the question's own number may be repeated
        ("Paga sessenta por cento.", "", "uncited"),
    ],
)
def test_check_generation(text: str, question: str, verdict: str) -> None:
    given = [
        Passage(REGULATORY_COLLECTION, "1", "", "d.md", "", "Em 2026 a energia paga 60 % do Fio B.", 0.6)
    ]
    checked = check_generation(text, given, question)
    if verdict == "ok":
        assert not isinstance(checked, str) and checked.citations
    else:
        assert isinstance(checked, str) and verdict in checked.replace("none of the passages", "uncited")


class CountingIndex(StandInIndex):
    def __init__(self) -> None:
        super().__init__()
        self.counts = 0

    async def texts(self, collection: str, fields: Sequence[str]) -> list[str]:
        self.counts += 1
        await asyncio.sleep(0.01)
        return await super().texts(collection, fields)


def test_the_vocabulary_is_counted_once_before_the_first_answer_then_when_stale() -> None:
    index, now = CountingIndex(), [0.0]
    cache = VocabularyCache(index, refresh_s=60, clock=lambda: now[0])

    async def run() -> None:
        first, second = await asyncio.gather(cache.get(), cache.get())  # both wait for the first count
        assert first.knows("fio") and second.knows("fio")
        calls = index.counts
        await cache.get()
        assert index.counts == calls  # fresh: not counted again
        now[0] = 61.0
        await cache.get()
        assert index.counts > calls  # stale: counted again

    asyncio.run(run())
