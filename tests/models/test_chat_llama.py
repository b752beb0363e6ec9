"""llama.cpp with the real SmolLM2-135M-Instruct GGUF: plumbing, never fluency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import cast

import pytest

from kernel.chat import ChatMessage, ChatRequest, EngineUnavailable
from models.llama_cpp_engine import LlamaCppConfig, LlamaCppEngine, packaged_smollm2_path

pytestmark = pytest.mark.anyio


def ask(question: str, **options: object) -> ChatRequest:
    messages = [
        ChatMessage(role="system", content="Você é Hélio, assistente de energia solar da YSH."),
        ChatMessage(role="user", content=question),
    ]
    return ChatRequest.model_validate({"messages": messages, "temperature": 0.0, "seed": 7, **options})


def test_the_default_model_is_the_packaged_gguf(smollm2: LlamaCppEngine) -> None:
    assert packaged_smollm2_path().name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert packaged_smollm2_path().is_file()
    assert smollm2.name == "llama_cpp:SmolLM2-135M-Instruct.Q4_1"
    assert smollm2.llm.chat_format == "chat_template.default"  # the template inside the GGUF


def test_a_missing_gguf_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="GGUF"):
        LlamaCppEngine(LlamaCppConfig(model_path=tmp_path / "nope.gguf"))


async def test_generates_text_and_counts_tokens(smollm2: LlamaCppEngine) -> None:
    result = await smollm2.generate(ask("O que é um inversor solar?", max_tokens=32))
    assert result.text.strip()
    assert result.engine == smollm2.name
    assert result.prompt_tokens > 10
    assert 0 < result.completion_tokens <= 32
    assert result.duration_s > 0
    assert result.tokens_per_s > 0
    assert result.fallback == []


async def test_stream_joins_to_the_same_text_as_generate(smollm2: LlamaCppEngine) -> None:
    request = ask("Quais as vantagens da energia solar?", max_tokens=40)
    whole = await smollm2.generate(request)
    deltas = [delta async for delta in smollm2.stream(request)]
    assert len(deltas) > 5
    assert "".join(deltas) == whole.text
    again = await smollm2.generate(request)
    assert again.text == whole.text  # deterministic whatever ran before (no prompt-cache reuse)


async def test_max_tokens_is_respected(smollm2: LlamaCppEngine) -> None:
    result = await smollm2.generate(ask("Explique a Lei 14.300 em detalhes.", max_tokens=5))
    assert result.completion_tokens == 5
    assert result.finish_reason == "length"
    short_default = LlamaCppEngine(LlamaCppConfig(n_threads=2, max_tokens=6))
    default = await short_default.generate(ask("Count from 1 to 1000: 1, 2, 3, 4,"))
    assert (default.completion_tokens, default.finish_reason) == (6, "length")


async def test_stop_strings_end_the_answer(smollm2: LlamaCppEngine) -> None:
    request = ask("O que é um painel solar?", max_tokens=40)
    whole = (await smollm2.generate(request)).text
    stop = whole.split()[3]
    cut = await smollm2.generate(request.model_copy(update={"stop": [stop]}))
    assert cut.text == whole[: whole.index(stop)]
    assert cut.finish_reason == "stop"


async def test_generation_leaves_the_event_loop_free(smollm2: LlamaCppEngine) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    result = await smollm2.generate(ask("Fale sobre baterias de lítio.", max_tokens=48))
    async for _ in smollm2.stream(ask("Fale sobre baterias de lítio.", max_tokens=48)):
        pass
    task.cancel()
    assert ticks >= 0.5 * result.duration_s / 0.01  # the loop ticked all along


async def test_a_caller_that_gives_up_frees_the_model(
    smollm2: LlamaCppEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Greedy counting to 1000 runs the full 3000 tokens (minutes on this CPU) unless stopped.
    long = ask("Count from 1 to 1000: 1, 2, 3, 4,", max_tokens=3000)
    # The context's length when the next generation takes the model: what the previous one evaluated.
    evaluated: list[int] = []
    fresh_context = smollm2._fresh_context

    def recorded() -> None:
        evaluated.append(smollm2.llm.n_tokens)
        fresh_context()

    monkeypatch.setattr(smollm2, "_fresh_context", recorded)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(smollm2.generate(long), 0.2)
    stream = cast(AsyncGenerator[str, None], smollm2.stream(long))
    async for _ in stream:
        break
    await stream.aclose()
    short = await smollm2.generate(ask("Oi", max_tokens=4))
    assert short.completion_tokens <= 4
    # Both abandoned generations stopped at their next token instead of running on to 3000.
    after_generate, after_stream = evaluated[1], evaluated[2]
    assert after_generate < 500 and after_stream < 500, evaluated


async def test_a_prompt_longer_than_the_context_is_unavailable(smollm2: LlamaCppEngine) -> None:
    too_long = ask("painel " * 5000, max_tokens=4)
    with pytest.raises(EngineUnavailable, match=r"llama\.cpp"):
        await smollm2.generate(too_long)
    with pytest.raises(EngineUnavailable, match=r"llama\.cpp"):
        async for _ in smollm2.stream(too_long):
            pass


@pytest.mark.slow  # loads a model of its own
@pytest.mark.parametrize(("reuse", "kept"), [(True, True), (False, False)])
async def test_the_prompt_cache_is_kept_only_when_asked(reuse: bool, kept: bool) -> None:
    engine = LlamaCppEngine(LlamaCppConfig(n_threads=2, max_tokens=4, reuse_prompt_prefix=reuse))
    request = ChatRequest(messages=[ChatMessage(role="user", content="Olá")], max_tokens=4, temperature=0)
    await engine.generate(request)
    evaluated = engine.llm.n_tokens
    engine._fresh_context()  # what the next generation starts with
    assert evaluated > 0 and (engine.llm.n_tokens == evaluated) is kept
    assert (await engine.generate(request)).completion_tokens > 0
