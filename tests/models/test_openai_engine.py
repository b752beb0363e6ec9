"""The OpenAI-compatible engine against a local stand-in for OpenAI's chat completions API (the
real service cannot run here): wire format, retries, backoff, rate limits, timeouts."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from kernel.chat import ChatMessage, ChatRequest, EngineUnavailable
from models.openai_engine import OpenAICompatibleConfig, OpenAICompatibleEngine
from tests.openai_chat_stand_in import ANSWER_PREFIX, ChatStandIn

pytestmark = pytest.mark.anyio

QUESTION = "Qual o preço de um inversor de 5 kW?"
REQUEST = ChatRequest(messages=[ChatMessage(role="user", content=QUESTION)], temperature=0.0)


def config(url: str, **options: Any) -> OpenAICompatibleConfig:
    fast = {"timeout_s": 2.0, "backoff_base_s": 0.01, "backoff_max_s": 0.05}
    return OpenAICompatibleConfig.model_validate({"base_url": url, "model": "gpt-test", **fast, **options})


@pytest.fixture
async def engine(chat_stand_in: ChatStandIn) -> AsyncIterator[OpenAICompatibleEngine]:
    engine = OpenAICompatibleEngine(config(chat_stand_in.base_url, api_key=SecretStr("sk-test")))
    yield engine
    await engine.aclose()


async def test_generate_sends_an_openai_request(
    engine: OpenAICompatibleEngine, chat_stand_in: ChatStandIn
) -> None:
    request = REQUEST.model_copy(update={"max_tokens": 50, "stop": ["\n\n"], "seed": 3})
    result = await engine.generate(request)
    assert result.text == f"{ANSWER_PREFIX} {QUESTION}"
    assert result.engine == "openai:gpt-test"
    assert result.finish_reason == "stop"
    assert result.completion_tokens == len(result.text.split(" "))
    assert result.prompt_tokens == len(QUESTION.split())
    [sent] = chat_stand_in.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["Authorization"] == "Bearer sk-test"
    assert sent.body == {
        "model": "gpt-test",
        "messages": [{"role": "user", "content": QUESTION}],
        "temperature": 0.0,
        "stream": False,
        "max_tokens": 50,
        "stop": ["\n\n"],
        "seed": 3,
    }


async def test_without_a_key_no_authorization_leaves(chat_stand_in: ChatStandIn) -> None:
    engine = OpenAICompatibleEngine(config(chat_stand_in.base_url + "/", name="ollama"))
    result = await engine.generate(REQUEST)
    await engine.aclose()
    assert result.engine == "ollama"
    assert "Authorization" not in chat_stand_in.requests[0].headers
    assert "max_tokens" not in chat_stand_in.requests[0].body  # None: the endpoint's default


async def test_stream_yields_the_deltas_of_the_answer(
    engine: OpenAICompatibleEngine, chat_stand_in: ChatStandIn
) -> None:
    deltas = [delta async for delta in engine.stream(REQUEST)]
    assert len(deltas) > 5
    assert "".join(deltas) == (await engine.generate(REQUEST)).text
    assert [r.body["stream"] for r in chat_stand_in.requests] == [True, False]


async def test_max_tokens_cuts_the_answer(engine: OpenAICompatibleEngine) -> None:
    request = REQUEST.model_copy(update={"max_tokens": 3})
    result = await engine.generate(request)
    assert (result.completion_tokens, result.finish_reason) == (3, "length")
    assert len([delta async for delta in engine.stream(request)]) == 3


async def test_server_errors_are_retried(engine: OpenAICompatibleEngine, chat_stand_in: ChatStandIn) -> None:
    chat_stand_in.fail(500, times=2)
    assert (await engine.generate(REQUEST)).text
    chat_stand_in.fail(503, times=1)
    assert [delta async for delta in engine.stream(REQUEST)]
    assert len(chat_stand_in.requests) == 5


async def test_server_errors_past_the_retries_make_it_unavailable(
    engine: OpenAICompatibleEngine, chat_stand_in: ChatStandIn
) -> None:
    chat_stand_in.fail(500, times=3, message="upstream overloaded")
    with pytest.raises(EngineUnavailable, match=r"HTTP 500: upstream overloaded \(after 3 attempts\)"):
        await engine.generate(REQUEST)
    assert len(chat_stand_in.requests) == 3


async def test_429_waits_for_retry_after(
    engine: OpenAICompatibleEngine, chat_stand_in: ChatStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    sleep = asyncio.sleep

    async def recorded(delay: float, *args: Any) -> Any:
        waits.append(delay)
        return await sleep(delay, *args)

    monkeypatch.setattr(asyncio, "sleep", recorded)
    chat_stand_in.fail(429, retry_after="0.3")
    assert (await engine.generate(REQUEST)).text
    assert 0.3 in waits  # the engine waited what Retry-After said, not its own backoff
    assert len(chat_stand_in.requests) == 2


async def test_429_beyond_the_cap_fails_at_once(
    engine: OpenAICompatibleEngine, chat_stand_in: ChatStandIn
) -> None:
    chat_stand_in.fail(429, retry_after="3600", message="quota exceeded")
    with pytest.raises(EngineUnavailable, match=r"^rate limited \(Retry-After 3600 s\): quota exceeded"):
        await engine.generate(REQUEST)
    assert len(chat_stand_in.requests) == 1


async def test_429_after_the_retries_is_rate_limited(
    engine: OpenAICompatibleEngine, chat_stand_in: ChatStandIn
) -> None:
    chat_stand_in.fail(429, times=3)  # no Retry-After: the backoff applies
    with pytest.raises(EngineUnavailable, match=r"^rate limited"):
        async for _ in engine.stream(REQUEST):
            pass
    assert len(chat_stand_in.requests) == 3


@pytest.mark.parametrize(
    ("status", "message"), [(400, "bad model"), (401, "Incorrect API key"), (404, "no such model")]
)
async def test_other_client_errors_fail_at_once_with_the_api_message(
    engine: OpenAICompatibleEngine, chat_stand_in: ChatStandIn, status: int, message: str
) -> None:
    chat_stand_in.fail(status, message=message)
    with pytest.raises(EngineUnavailable, match=f"^HTTP {status}: {message}$"):
        await engine.generate(REQUEST)
    assert len(chat_stand_in.requests) == 1


async def test_a_hanging_endpoint_times_out(chat_stand_in: ChatStandIn) -> None:
    engine = OpenAICompatibleEngine(config(chat_stand_in.base_url, timeout_s=0.2, max_retries=1))
    chat_stand_in.hang(5, times=4)
    with pytest.raises(EngineUnavailable, match=r"timed out after 0.2 s .* \(after 2 attempts\)"):
        await engine.generate(REQUEST)
    with pytest.raises(EngineUnavailable, match="timed out"):
        async for _ in engine.stream(REQUEST):
            pass
    await engine.aclose()
    assert len(chat_stand_in.requests) == 4


async def test_a_closed_port_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = OpenAICompatibleEngine(config(f"http://127.0.0.1:{port}/v1"))
    with pytest.raises(EngineUnavailable, match=r"ConnectError.*\(after 3 attempts\)"):
        await engine.generate(REQUEST)
    await engine.aclose()


async def test_a_stream_broken_after_its_first_token_is_surfaced(
    engine: OpenAICompatibleEngine, chat_stand_in: ChatStandIn
) -> None:
    chat_stand_in.break_stream()
    deltas: list[str] = []
    with pytest.raises(EngineUnavailable, match="stream broken"):
        async for delta in engine.stream(REQUEST):
            deltas.append(delta)
    assert deltas == ["Olá! "]
    assert len(chat_stand_in.requests) == 1  # no retry once tokens went out


def test_openai_itself_needs_its_url_resolved_from_the_settings() -> None:
    with pytest.raises(ValueError, match="settings"):
        OpenAICompatibleEngine(OpenAICompatibleConfig())


@pytest.mark.parametrize(
    ("attempt", "low", "high"), [(0, 0.25, 0.5), (1, 0.5, 1.0), (2, 1.0, 2.0), (3, 2.0, 4.0), (6, 4.0, 8.0)]
)
def test_backoff_doubles_with_jitter_up_to_the_cap(attempt: int, low: float, high: float) -> None:
    engine = OpenAICompatibleEngine(OpenAICompatibleConfig(base_url="http://127.0.0.1:9/v1"))
    delays = {engine._backoff(attempt) for _ in range(50)}
    assert all(low <= delay <= high for delay in delays)
    assert len(delays) > 1  # jittered
