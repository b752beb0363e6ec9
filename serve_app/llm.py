"""The chat side of Hélio on Serve: the local model as its own deployment, and the router's chain.

`ChatModel` is the LLM deployment: it loads the local engine (llama.cpp over a GGUF) once per replica
and autoscales apart from the router and the embedder. The router holds the fallback chain as
configured; its local step is a `DeploymentChatEngine` calling that deployment through its handle,
the others are built by `models.chat_engines.build_engine`, which puts every third-party step behind
redaction.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from common.settings import Settings
from kernel.chat import ChatEngine, ChatRequest, ChatResult, EngineUnavailable
from models.chat_engines import ChatChainConfig, build_engine
from models.fallback import FallbackChain
from models.llama_cpp_engine import LlamaCppConfig, LlamaCppEngine, packaged_smollm2_path

log = logging.getLogger(__name__)

EngineFactory = Callable[[LlamaCppConfig], ChatEngine]


class ChatModel:
    """Plain class; the builder makes it a deployment. `engine_factory` lets a test pass another engine."""

    def __init__(self, config: LlamaCppConfig, engine_factory: EngineFactory = LlamaCppEngine) -> None:
        self.engine = engine_factory(config)

    async def generate(self, request: dict[str, Any]) -> dict[str, Any]:
        result = await self.engine.generate(ChatRequest.model_validate(request))
        return result.model_dump()

    async def stream(self, request: dict[str, Any]) -> AsyncIterator[str]:
        async for delta in self.engine.stream(ChatRequest.model_validate(request)):
            yield delta


class DeploymentChatEngine:
    """The chain's step for the `ChatModel` deployment: a dead, overloaded or failing replica is an
    `EngineUnavailable`, so the chain falls over to its next step."""

    def __init__(self, handle: Any, name: str) -> None:
        self._handle = handle
        self.name = name

    async def generate(self, request: ChatRequest) -> ChatResult:
        try:
            answer = await self._handle.generate.remote(request.model_dump())
        except Exception as error:  # Serve wraps replica deaths, back-pressure and engine errors alike
            raise EngineUnavailable(_reason(error)) from None
        return ChatResult.model_validate(answer)

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        try:
            async for delta in self._handle.options(stream=True).stream.remote(request.model_dump()):
                yield delta
        except Exception as error:
            raise EngineUnavailable(_reason(error)) from None


def _reason(error: Exception) -> str:
    log.warning("chat model deployment failed: %s", error)
    cause = getattr(error, "cause", None)
    if isinstance(cause, EngineUnavailable):
        return cause.reason
    return f"chat model deployment failed ({type(cause or error).__name__})"


def local_engine_config(config: ChatChainConfig) -> LlamaCppConfig | None:
    """The chain's llama.cpp step, which the `ChatModel` deployment serves (one at most)."""
    local = [engine for engine in config.engines if isinstance(engine, LlamaCppConfig)]
    if len(local) > 1:
        raise ValueError("at most one llama_cpp engine per chain: the ChatModel deployment serves it")
    return local[0] if local else None


def build_router_chain(config: ChatChainConfig, settings: Settings, chat_model: Any | None) -> FallbackChain:
    """The chain as the router runs it: the local step through the deployment handle, third-party
    (`openai`) steps behind redaction, vLLM (our own cluster's OpenAI app) as configured."""
    engines: list[ChatEngine] = []
    for step in config.engines:
        if isinstance(step, LlamaCppConfig):
            if chat_model is None:
                raise ValueError("a llama_cpp step needs the ChatModel deployment")
            path = step.model_path or packaged_smollm2_path()
            engines.append(DeploymentChatEngine(chat_model, name=f"llama_cpp:{path.stem}"))
        else:
            engines.append(build_engine(step, settings))
    return FallbackChain(engines, config.timeout_s)
