"""vLLM through Ray Serve LLM on a real GPU: the OpenAI app built from a `VLLMConfig`, queried by
the engine the router uses. Skipped without vLLM and CUDA.

The model is HELIO_VLLM_TEST_MODEL (a local folder or a Hugging Face id already in the cache;
nothing downloads: workers run with HF_HUB_OFFLINE=1), by default Qwen2.5-0.5B-Instruct, the
small sibling of the production Qwen2.5-7B-Instruct.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from kernel.chat import ChatMessage, ChatRequest
from models.fallback import FallbackChain
from models.llm_ingress import KEY_VARIABLE
from models.openai_engine import OpenAICompatibleEngine
from models.vllm_engine import VLLMConfig
from tests.conftest import free_port

pytestmark = pytest.mark.gpu

pytest.importorskip("vllm")
torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("needs a CUDA GPU", allow_module_level=True)

TEST_MODEL = os.environ.get("HELIO_VLLM_TEST_MODEL", "Qwen/Qwen2.5-0.5B-Instruct")
LLM_KEY = SecretStr("gpu-test-llm-key-0123456789abcdef")

MAX_TOKENS = 32
REQUEST = ChatRequest(
    messages=[
        ChatMessage(role="system", content="Você é Hélio, assistente de energia solar."),
        ChatMessage(role="user", content="O que faz um inversor solar?"),
    ],
    max_tokens=MAX_TOKENS,
    temperature=0.0,
    seed=0,
)


def model_is_local(model: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return Path(model).is_dir() or isinstance(try_to_load_from_cache(model, "config.json"), str)


@pytest.fixture(scope="module")
def vllm_app(ray_session: str) -> Iterator[VLLMConfig]:
    """The OpenAI app of Ray Serve LLM with the test model, on route /llm of a local Serve."""
    if not model_is_local(TEST_MODEL):
        pytest.skip(f"{TEST_MODEL} is neither a folder nor in the Hugging Face cache")
    from ray import serve
    from ray.serve.llm import build_openai_app

    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    config = VLLMConfig(
        model_id=TEST_MODEL,
        max_model_len=2048,
        gpu_memory_utilization=0.5,
        base_url=f"http://127.0.0.1:{port}/llm/v1",
        timeout_s=120,
    )
    app = build_openai_app(
        {
            "llm_configs": [config.llm_config()],
            # As gpu.yaml deploys it: the keyed ingress, its key from the replica's environment.
            "ingress_cls_config": {"ingress_cls": "models.llm_ingress:KeyedOpenAiIngress"},
            "ingress_deployment_config": {
                "ray_actor_options": {"runtime_env": {"env_vars": {KEY_VARIABLE: LLM_KEY.get_secret_value()}}}
            },
        }
    )
    serve.run(app, name="helio-llm", route_prefix="/llm")
    yield config
    serve.delete("helio-llm")
    serve.shutdown()


def test_vllm_generates_and_streams_through_the_router_engine(vllm_app: VLLMConfig) -> None:
    async def scenario() -> tuple[str, str, int, list[str]]:
        engine = OpenAICompatibleEngine(vllm_app.client_config(LLM_KEY))
        try:
            result = await FallbackChain([engine]).generate(REQUEST)
            deltas = [delta async for delta in engine.stream(REQUEST)]
        finally:
            await engine.aclose()
        return result.text, result.engine, result.completion_tokens, deltas

    text, engine, completion_tokens, deltas = asyncio.run(scenario())
    assert text.strip()
    assert engine == f"vllm:{TEST_MODEL}"
    assert 0 < completion_tokens <= MAX_TOKENS
    assert len(deltas) > 1 and "".join(deltas).strip()


def test_the_model_app_refuses_callers_without_the_key(vllm_app: VLLMConfig) -> None:
    body = {"model": TEST_MODEL, "messages": [{"role": "user", "content": "oi"}], "max_tokens": 4}
    url = f"{vllm_app.base_url}/chat/completions"
    assert httpx.post(url, json=body, timeout=60).status_code == 401
    wrong = {"Authorization": "Bearer guess"}
    assert httpx.post(url, json=body, headers=wrong, timeout=60).status_code == 401


def test_first_token_time_and_tokens_per_second(vllm_app: VLLMConfig) -> None:
    """Measured through ray.serve.llm as the router reaches it, and printed (`make test-gpu`), not held to a
    number: a timed test fails on a busy machine, not on slow code. What is asserted is that every stream
    produced text and every answer counted its tokens."""
    request = REQUEST.model_copy(update={"max_tokens": 256})

    async def scenario() -> tuple[list[float], list[float]]:
        engine = OpenAICompatibleEngine(vllm_app.client_config(LLM_KEY))
        firsts: list[float] = []
        rates: list[float] = []
        try:
            await engine.generate(request)  # the first request after loading warms the engine up
            for _ in range(5):
                started = time.perf_counter()
                first = 0.0
                async for delta in engine.stream(request):
                    if delta and not first:
                        first = time.perf_counter() - started
                firsts.append(first)
                started = time.perf_counter()
                result = await engine.generate(request)
                rates.append(result.completion_tokens / (time.perf_counter() - started))
        finally:
            await engine.aclose()
        return firsts, rates

    firsts, rates = asyncio.run(scenario())
    assert all(first > 0 for first in firsts) and all(rate > 0 for rate in rates)
    print(
        f"\nvLLM {TEST_MODEL} through ray.serve.llm:"
        f" first token p50 {statistics.median(firsts) * 1000:.0f} ms"
        f" (max {max(firsts) * 1000:.0f}), {statistics.median(rates):.0f} tokens/s for one request"
    )
