"""A fallback chain of chat engines: the first that answers wins, and the answer says why the
ones before it did not.

The last resort, an extractive answer (the best passages quoted, with citations), is not an LLM
and does not live here: when every engine fails the chain raises `AllEnginesFailed`, carrying
each engine's reason, and the caller (the RAG answerer) builds the extractive answer from it.

Streaming falls over only before the first token: once an engine has started answering, the
client has text on screen, so a later error is surfaced rather than mixed with another engine's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from common.metrics import count_fallback
from kernel.chat import (
    AllEnginesFailed,
    ChatEngine,
    ChatRequest,
    ChatResult,
    EngineFailure,
    EngineUnavailable,
)

logger = logging.getLogger(__name__)


class DisabledEngine:
    """A configured step that cannot run (OpenAI without a key): it keeps its place in the chain
    and always fails with its reason, so a response can say why the step was skipped."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    async def generate(self, request: ChatRequest) -> ChatResult:
        raise EngineUnavailable(self.reason)

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        raise EngineUnavailable(self.reason)
        yield ""  # makes this an async generator, like every engine's stream


@dataclass
class ChatStream:
    """An answer being streamed: the engine that produced its first token, the engines skipped
    before it, and the text deltas (iterate them; `aclose` stops the generation early)."""

    engine: str
    fallback: list[EngineFailure]
    deltas: AsyncIterator[str] = field(repr=False)

    def __aiter__(self) -> AsyncIterator[str]:
        return self.deltas

    async def aclose(self) -> None:
        await _close(self.deltas)


class FallbackChain:
    def __init__(self, engines: Sequence[ChatEngine], timeout_s: float | None = None) -> None:
        """`timeout_s` bounds each engine's whole answer in `generate`, and its first token in
        `stream`; None leaves timeouts to the engines."""
        self.engines = list(engines)
        self.timeout_s = timeout_s

    async def generate(self, request: ChatRequest) -> ChatResult:
        failures: list[EngineFailure] = []
        for engine in self.engines:
            try:
                result = await asyncio.wait_for(engine.generate(request), self.timeout_s)
                if not result.text.strip():
                    raise EngineUnavailable("empty answer")
            except Exception as exc:
                failures.append(self._failure(engine, exc))
                continue
            return result.model_copy(update={"fallback": failures})
        raise AllEnginesFailed(failures)

    async def stream(self, request: ChatRequest) -> ChatStream:
        """Returns once an engine has produced its first non-blank text; raises `AllEnginesFailed`
        when none does."""
        failures: list[EngineFailure] = []
        for engine in self.engines:
            deltas = engine.stream(request)
            try:
                first = await asyncio.wait_for(_first_text(deltas), self.timeout_s)
            except Exception as exc:
                failures.append(self._failure(engine, exc))
                await _close(deltas)
                continue
            return ChatStream(engine.name, failures, _prepend(first, deltas))
        raise AllEnginesFailed(failures)

    def _failure(self, engine: ChatEngine, exc: Exception) -> EngineFailure:
        if isinstance(exc, EngineUnavailable):
            reason, kind = exc.reason, "unavailable"
        elif isinstance(exc, TimeoutError):
            reason = f"timed out after {self.timeout_s:g} s" if self.timeout_s else "timed out"
            kind = "timeout"
        else:
            kind = "error"
            logger.exception("chat engine %s failed", engine.name, exc_info=exc)
            reason = f"{type(exc).__name__}: {exc}"
        logger.warning("chat engine %s skipped: %s", engine.name, reason)
        count_fallback(engine.name, kind)
        return EngineFailure(engine=engine.name, reason=reason)


async def _first_text(deltas: AsyncIterator[str]) -> str:
    """The deltas up to and including the first that is not blank, joined."""
    text = ""
    async for delta in deltas:
        text += delta
        if text.strip():
            return text
    raise EngineUnavailable("empty answer")


async def _prepend(first: str, deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    try:
        yield first
        async for delta in deltas:
            yield delta
    finally:
        await _close(deltas)


async def _close(deltas: AsyncIterator[str]) -> None:
    """Close an async generator (stopping its engine's work); plain iterators need nothing."""
    aclose = getattr(deltas, "aclose", None)
    if aclose is not None:
        await aclose()
