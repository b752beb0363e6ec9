"""The fallback chain: order, reasons, timeouts, streaming before and after the first token.

The chain's logic runs against scripted engines (test doubles of the `ChatEngine` protocol, each
told how to fail); the OpenAI steps built from settings run against the local chat stand-in
(OpenAI's service cannot run here)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from common.settings import Settings
from kernel.chat import (
    AllEnginesFailed,
    ChatMessage,
    ChatRequest,
    ChatResult,
    EngineFailure,
    EngineUnavailable,
)
from models.chat_engines import ChatChainConfig, build_chain
from models.fallback import DisabledEngine, FallbackChain
from models.openai_engine import OpenAICompatibleConfig
from tests.openai_chat_stand_in import ChatStandIn

pytestmark = pytest.mark.anyio

REQUEST = ChatRequest(messages=[ChatMessage(role="user", content="Quanto custa um kit de 5 kWp?")])


class Scripted:
    """A chat engine that answers `text` (word by word when streaming) or fails as told:
    `error` before any token, `error_after_first` after the first one, `delay_s` before starting."""

    def __init__(
        self,
        name: str,
        text: str = "um kit custa cerca de R$ 15 mil",
        error: Exception | None = None,
        error_after_first: Exception | None = None,
        delay_s: float = 0.0,
    ) -> None:
        self.name = name
        self.text = text
        self.error = error
        self.error_after_first = error_after_first
        self.delay_s = delay_s
        self.calls = 0
        self.closed = False

    async def generate(self, request: ChatRequest) -> ChatResult:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        if self.error:
            raise self.error
        words = len(self.text.split())
        return ChatResult(
            text=self.text, engine=self.name, prompt_tokens=9, completion_tokens=words, duration_s=0.1
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        self.calls += 1
        try:
            await asyncio.sleep(self.delay_s)
            if self.error:
                raise self.error
            for index, word in enumerate(self.text.split(" ")):
                if index == 1 and self.error_after_first:
                    raise self.error_after_first
                yield word if index == 0 else " " + word
        finally:
            self.closed = True


async def test_the_first_engine_that_answers_wins() -> None:
    first, second = Scripted("local"), Scripted("openai")
    result = await FallbackChain([first, second]).generate(REQUEST)
    assert (result.engine, result.fallback) == ("local", [])
    assert (first.calls, second.calls) == (1, 0)


@pytest.mark.parametrize(
    ("failing", "reason"),
    [
        (Scripted("local", error=EngineUnavailable("model not loaded")), "model not loaded"),
        (Scripted("local", error=RuntimeError("CUDA out of memory")), "RuntimeError: CUDA out of memory"),
        (Scripted("local", delay_s=5), "timed out after 0.2 s"),
        (Scripted("local", text="  \n"), "empty answer"),
    ],
)
async def test_a_failure_falls_over_and_says_why(failing: Scripted, reason: str) -> None:
    result = await FallbackChain([failing, Scripted("openai")], timeout_s=0.2).generate(REQUEST)
    assert result.engine == "openai"
    assert result.fallback == [EngineFailure(engine="local", reason=reason)]


async def test_all_failing_raises_with_every_reason_in_order() -> None:
    chain = FallbackChain(
        [
            Scripted("local", error=EngineUnavailable("llama.cpp: prompt too long")),
            DisabledEngine("openai:gpt-4o-mini", "OPENAI_API_KEY is not set"),
            Scripted("vllm", error=ConnectionError("refused")),
        ]
    )
    with pytest.raises(AllEnginesFailed) as raised:
        await chain.generate(REQUEST)
    assert [(f.engine, f.reason) for f in raised.value.failures] == [
        ("local", "llama.cpp: prompt too long"),
        ("openai:gpt-4o-mini", "OPENAI_API_KEY is not set"),
        ("vllm", "ConnectionError: refused"),
    ]
    assert "local: llama.cpp: prompt too long; openai:gpt-4o-mini: OPENAI_API_KEY" in str(raised.value)
    with pytest.raises(AllEnginesFailed) as streamed:
        await chain.stream(REQUEST)
    assert streamed.value.failures == raised.value.failures


async def test_an_empty_chain_goes_straight_to_the_caller() -> None:
    with pytest.raises(AllEnginesFailed, match="no chat engine configured"):
        await FallbackChain([]).generate(REQUEST)


async def test_stream_falls_over_before_the_first_token() -> None:
    broken, slow = Scripted("local", error=EngineUnavailable("down")), Scripted("vllm", delay_s=5)
    answering = Scripted("openai", text="  resposta em partes")
    stream = await FallbackChain([broken, slow, answering], timeout_s=0.2).stream(REQUEST)
    assert stream.engine == "openai"
    assert stream.fallback == [
        EngineFailure(engine="local", reason="down"),
        EngineFailure(engine="vllm", reason="timed out after 0.2 s"),
    ]
    assert [delta async for delta in stream] == ["  resposta", " em", " partes"]  # blanks joined
    assert broken.closed and slow.closed and answering.closed


async def test_stream_errors_after_the_first_token_are_surfaced() -> None:
    flaky = Scripted("local", error_after_first=EngineUnavailable("stream broken"))
    spare = Scripted("openai")
    stream = await FallbackChain([flaky, spare]).stream(REQUEST)
    received = []
    with pytest.raises(EngineUnavailable, match="stream broken"):
        async for delta in stream:
            received.append(delta)
    assert (received, stream.engine, spare.calls) == (["um"], "local", 0)


async def test_closing_a_stream_stops_its_engine() -> None:
    engine = Scripted("local")
    stream = await FallbackChain([engine]).stream(REQUEST)
    assert await anext(aiter(stream)) == "um"
    await stream.aclose()
    assert engine.closed


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def chain_config() -> ChatChainConfig:
    """A dead endpoint first, then OpenAI itself (URL and key from the settings)."""
    dead = OpenAICompatibleConfig(name="ollama", base_url=closed_port_url(), max_retries=0)
    return ChatChainConfig(engines=[dead, OpenAICompatibleConfig(model="gpt-test")], timeout_s=5)


async def test_without_a_key_openai_is_skipped_and_says_so(chat_stand_in: ChatStandIn) -> None:
    settings = Settings(openai_api_key=None, openai_base_url=chat_stand_in.base_url)
    with pytest.raises(AllEnginesFailed) as raised:
        await build_chain(chain_config(), settings).generate(REQUEST)
    assert [f.engine for f in raised.value.failures] == ["ollama", "openai:gpt-test"]
    assert raised.value.failures[0].reason.startswith("ConnectError")
    assert raised.value.failures[1].reason == "OPENAI_API_KEY is not set"
    assert chat_stand_in.requests == []  # nothing left for OpenAI


async def test_with_a_key_openai_answers_after_the_dead_engine(chat_stand_in: ChatStandIn) -> None:
    settings = Settings(openai_api_key=SecretStr("sk-from-settings"), openai_base_url=chat_stand_in.base_url)
    chain = build_chain(chain_config(), settings)
    result = await chain.generate(REQUEST)
    assert result.engine == "openai:gpt-test"
    assert [f.engine for f in result.fallback] == ["ollama"]
    stream = await chain.stream(REQUEST)
    assert stream.engine == "openai:gpt-test"
    assert "".join([delta async for delta in stream]) == result.text
    assert {r.headers["Authorization"] for r in chat_stand_in.requests} == {"Bearer sk-from-settings"}
