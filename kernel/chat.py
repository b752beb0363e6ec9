"""Chat engines: one small async interface over llama.cpp, vLLM and any OpenAI-compatible endpoint.

Engines are called from Ray Serve deployments, whose handlers run on one asyncio event loop, so
the interface is async: `generate` is awaited, `stream` is an async iterator of text deltas. An
engine that wraps a blocking runtime (llama.cpp) does its work in a thread and never blocks the
loop. An engine that cannot answer (down, misconfigured, timed out, rate limited after its
retries) raises `EngineUnavailable` with a reason that ends up in the response, so callers can
say why a fallback happened (see `models.fallback`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"] = Field(description="Who says it.")
    content: str = Field(description="The message text.")


class ChatRequest(BaseModel):
    messages: list[ChatMessage] = Field(min_length=1, description="The conversation, oldest first.")
    max_tokens: int | None = Field(
        default=None, ge=1, description="Most tokens to generate; None takes the engine's default."
    )
    temperature: float = Field(default=0.2, ge=0.0, le=2.0, description="0 is greedy (deterministic).")
    stop: list[str] = Field(default_factory=list, description="Strings that end the answer (not included).")
    seed: int | None = Field(default=None, description="Sampling seed, where the engine supports one.")


class EngineFailure(BaseModel):
    """Why one engine of a fallback chain did not answer."""

    model_config = ConfigDict(frozen=True)

    engine: str = Field(description="Name of the engine that failed.")
    reason: str = Field(description="Its `EngineUnavailable` reason, a timeout, or the exception class.")


class ChatResult(BaseModel):
    text: str = Field(description="The generated answer.")
    engine: str = Field(description="Name of the engine that answered.")
    finish_reason: str | None = Field(
        default=None, description='"stop" (ended by itself or a stop string), "length" (hit max_tokens).'
    )
    prompt_tokens: int = Field(ge=0, description="Tokens of the prompt, as the engine counted them.")
    completion_tokens: int = Field(ge=0, description="Tokens generated.")
    duration_s: float = Field(ge=0.0, description="Wall time of the call, seconds.")
    fallback: list[EngineFailure] = Field(
        default_factory=list,
        description="Engines tried before this one and why each failed; empty when the first answered.",
    )

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.duration_s if self.duration_s > 0 else 0.0


class EngineUnavailable(Exception):
    """The engine cannot answer now; `reason` says why, in words fit for a response."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AllEnginesFailed(Exception):
    """No engine answered; `failures` lists each one's reason, in chain order."""

    def __init__(self, failures: Sequence[EngineFailure]) -> None:
        self.failures = list(failures)
        summary = "; ".join(f"{f.engine}: {f.reason}" for f in self.failures)
        super().__init__(summary or "no chat engine configured")


class ChatEngine(Protocol):
    name: str

    async def generate(self, request: ChatRequest) -> ChatResult:
        """The whole answer. Raises `EngineUnavailable` when the engine cannot answer."""
        ...

    def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        """Text deltas as they are generated (an async generator: close it to stop generating).
        Raises `EngineUnavailable` when the engine cannot answer."""
        ...


class ChatChain(Protocol):
    """Engines tried in order until one answers (`models.fallback.FallbackChain`)."""

    async def generate(self, request: ChatRequest) -> ChatResult:
        """The first answer an engine gave. Raises `AllEnginesFailed` with each engine's reason."""
        ...
