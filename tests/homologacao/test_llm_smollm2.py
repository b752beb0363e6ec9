"""Plumbing with the real local model (SmolLM2-135M via llama.cpp): the request reaches the engine and
whatever a 135M model answers comes back as grounded values or as stated rejections, never as a crash
or an ungrounded value. Its answers are poor, so nothing here checks what it extracts."""

from __future__ import annotations

import pytest

from homologacao.documents import classified
from homologacao.llm_extraction import extract_with_llm
from kernel.text import fold
from models.llama_cpp_engine import LlamaCppConfig, LlamaCppEngine

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_smollm2_answers_are_kept_only_with_evidence() -> None:
    engine = LlamaCppEngine(LlamaCppConfig(n_threads=2))
    memorial = classified(
        "memorial.txt", ("Memorial descritivo\nART registrada sob o código CE-555/2026-77.",)
    )
    result = await extract_with_llm(engine, [memorial], ["art_number", "kwp"])
    assert result.engine is not None or result.error is not None
    for found in result.found:  # whatever it found is quoted from the document
        assert found.method == "llm" and found.evidence.document == "memorial.txt"
        assert fold(found.evidence.snippet) in fold(memorial.text)
