"""`/store/helio/ask` figures for `make bench` (called by `scripts.bench` once catalog and knowledge bases
are indexed), on the shipped Serve config (`cpu.yaml`): the extractive answer's latency over HTTP (the
chain emptied), then, as shipped (SmolLM2 through llama.cpp first), the time to the first streamed token
and the engine's tokens/s through the ChatModel deployment vs llama.cpp called directly in this process
(the ratio)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import yaml
from ray import serve

from common.settings import PROJECT_ROOT, Settings
from models.chat import ChatMessage, ChatRequest
from models.chat_engines import ChatChainConfig
from models.llama_cpp_engine import LlamaCppConfig, LlamaCppEngine
from scripts.bench import percentiles
from serve_app.app import build_search_app
from serve_app.config import DEFAULT_SERVE_CONFIG, SearchAppConfig
from serve_app.llm import DeploymentChatEngine

QUESTIONS = [
    item["question"] for item in yaml.safe_load((PROJECT_ROOT / "rag/eval/questions.yaml").read_text())
]
SHIPPED = SearchAppConfig.from_yaml(DEFAULT_SERVE_CONFIG)
LLAMA = next(engine for engine in SHIPPED.chat.engines if isinstance(engine, LlamaCppConfig))
THROUGHPUT_PROMPT = "Explique em poucas frases o que é um inversor solar e para que serve a string box."


def _deploy(settings: Settings, config: SearchAppConfig) -> None:
    serve.run(build_search_app(config, settings), name="bench", route_prefix="/")


def _ask_ms(http: httpx.Client, questions: list[str]) -> list[float]:
    samples = []
    for question in questions:
        started = time.perf_counter()
        http.post("/store/helio/ask", json={"question": question}).raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _first_token_ms(http: httpx.Client, questions: list[str]) -> list[float]:
    samples = []
    for question in questions:
        started = time.perf_counter()
        with http.stream("POST", "/store/helio/ask", json={"question": question, "stream": True}) as response:
            response.raise_for_status()
            lines = response.iter_lines()
            for line in lines:
                if line.startswith("event: "):  # the first event: a token (or the whole answer)
                    samples.append((time.perf_counter() - started) * 1000)
                    break
            for _ in lines:  # let the answer finish before the next question
                pass
    return samples


async def _tokens_per_s(engine: Any, runs: int) -> float:
    request = ChatRequest(
        messages=[ChatMessage(role="user", content=THROUGHPUT_PROMPT)], max_tokens=64, temperature=0
    )
    tokens, seconds = 0, 0.0
    for _ in range(runs):
        started = time.perf_counter()
        result = await engine.generate(request)
        seconds += time.perf_counter() - started
        tokens += result.completion_tokens
    return tokens / seconds


def bench_ask(settings: Settings, url: str, requests: int, config: SearchAppConfig) -> dict[str, Any]:
    """Needs Serve started on `url`'s port; leaves the app `bench` deployed (with llama.cpp). `config`:
    the shipped one as `scripts.bench` adjusts it (per-client rate lifted, query cache off)."""
    questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(requests)]
    _deploy(settings, config.model_copy(update={"chat": ChatChainConfig(engines=[])}))
    with httpx.Client(base_url=url, timeout=120) as http:
        _ask_ms(http, questions[:5])  # warm-up
        extractive = percentiles(_ask_ms(http, questions))
        _deploy(settings, config)  # llama.cpp first, as make run serves it
        _first_token_ms(http, questions[:2])
        first_token = percentiles(_first_token_ms(http, questions[: max(requests // 5, 10)]))
    handle = serve.get_deployment_handle("ChatModel", app_name="bench")
    served = asyncio.run(_tokens_per_s(DeploymentChatEngine(handle, "llama_cpp"), runs=5))
    direct = asyncio.run(_tokens_per_s(LlamaCppEngine(LLAMA), runs=5))
    return {
        "extractive_http_1_client": extractive,
        "llama_cpp_first_token_http": first_token,
        "llama_cpp_tokens_per_s_served": round(served, 1),
        "llama_cpp_tokens_per_s_direct": round(direct, 1),
        "ratio_served_to_direct_tokens_per_s": round(served / direct, 3),
    }
