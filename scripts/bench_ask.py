"""`/store/helio/ask` figures for `make bench` (called by `scripts.bench` once catalog and knowledge bases
are indexed), on the shipped Serve config (`cpu.yaml`: extractive answers, generation off), over HTTP,
1 client, on the eval set's questions, each asked once per row so no cache has seen it:
- the JSON answer's latency, and the time to the first Server-Sent Event (the `answer` event);
- the same questions again with the router's query cache on (cache hits, their own row);
- with generation on (`generate: always`, SmolLM2 through llama.cpp first, as `make eval --engine
  llama_cpp` judges it): the whole answer's latency and how many generations were discarded;
- llama.cpp's tokens/s through the ChatModel deployment vs called directly in this process (the ratio).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import yaml
from ray import serve

from common.settings import PROJECT_ROOT, Settings
from kernel.chat import ChatMessage, ChatRequest
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


def _ask(http: httpx.Client, questions: list[str]) -> tuple[list[float], list[dict[str, Any]]]:
    samples, bodies = [], []
    for question in questions:
        started = time.perf_counter()
        response = http.post("/store/helio/ask", json={"question": question})
        response.raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
        bodies.append(response.json())
    return samples, bodies


def _first_event_ms(http: httpx.Client, questions: list[str]) -> list[float]:
    samples = []
    for question in questions:
        started = time.perf_counter()
        with http.stream("POST", "/store/helio/ask", json={"question": question, "stream": True}) as response:
            response.raise_for_status()
            lines = response.iter_lines()
            for line in lines:
                if line.startswith("event: "):  # the first event: the answer that stands, or is improved on
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
    """Needs Serve started on `url`'s port; leaves the app `bench` deployed. `config`: the shipped one as
    `scripts.bench` adjusts it (per-client rate lifted, query cache off)."""
    count = min(requests, len(QUESTIONS) // 3)
    unseen_json, unseen_stream, generated = (
        QUESTIONS[start::3][:count] for start in range(3)
    )  # three disjoint sets: no question meets a cache twice
    _deploy(settings, config)
    with httpx.Client(base_url=url, timeout=120) as http:
        _ask(http, ["Qual a validade dos créditos de energia?", "Vocês têm inversor de 5 kW?"])  # warm-up
        json_ms, _ = _ask(http, unseen_json)
        first_event = percentiles(_first_event_ms(http, unseen_stream))
        cached_router = config.router.model_copy(
            update={"query_cache_entries": SHIPPED.router.query_cache_entries}
        )
        _deploy(settings, config.model_copy(update={"router": cached_router}))
        _ask(http, unseen_json)  # fills the cache
        cache_hits, _ = _ask(http, unseen_json)
        generating = config.model_copy(update={"ask": config.ask.model_copy(update={"generate": "always"})})
        _deploy(settings, generating)
        _ask(http, unseen_json[:2])
        generated_ms, bodies = _ask(http, generated[: max(count // 4, 5)])
    handle = serve.get_deployment_handle("ChatModel", app_name="bench")
    served = asyncio.run(_tokens_per_s(DeploymentChatEngine(handle, "llama_cpp"), runs=5))
    direct = asyncio.run(_tokens_per_s(LlamaCppEngine(LLAMA), runs=5))
    discarded = sum(1 for body in bodies if body["engine"] == "extractive" and body["fallback"])
    return {
        "json_http_1_client_unseen": percentiles(json_ms),
        "first_event_http_1_client_unseen": first_event,
        "json_http_1_client_cache_hits": percentiles(cache_hits),
        "generate_always_smollm2_http": percentiles(generated_ms),
        "generations_discarded": f"{discarded}/{len(bodies)}",
        "llama_cpp_tokens_per_s_served": round(served, 1),
        "llama_cpp_tokens_per_s_direct": round(direct, 1),
        "ratio_served_to_direct_tokens_per_s": round(served / direct, 3),
    }
