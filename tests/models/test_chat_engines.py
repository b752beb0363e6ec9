"""The chain's config (table-tested), the engines it builds, and one congruence test that runs the
same calls against the in-process engine (llama.cpp + SmolLM2) and the HTTP one (against the
local OpenAI chat stand-in, as OpenAI's service cannot run here)."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr, ValidationError

import models.chat_engines
from common.settings import Settings
from kernel.chat import ChatEngine, ChatMessage, ChatRequest
from models.chat_engines import ChatChainConfig, RedactingEngine, build_chain, build_engine
from models.fallback import DisabledEngine
from models.llama_cpp_engine import LlamaCppConfig, LlamaCppEngine
from models.openai_engine import OpenAICompatibleConfig, OpenAICompatibleEngine
from models.vllm_engine import VLLMConfig
from tests.openai_chat_stand_in import ChatStandIn

NO_KEY = Settings(openai_api_key=None)
REQUEST = ChatRequest(
    messages=[ChatMessage(role="user", content="Qual a potência de um painel de 550 W?")],
    temperature=0.0,
    seed=1,
)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("", [LlamaCppConfig(), OpenAICompatibleConfig()]),
        ("timeout_s: 30", [LlamaCppConfig(), OpenAICompatibleConfig()]),
        ("engines: []", []),
        (
            "engines: [{kind: llama_cpp, n_threads: 2, max_tokens: 64, model_path: /m/q.gguf}]",
            [LlamaCppConfig(n_threads=2, max_tokens=64, model_path=Path("/m/q.gguf"))],
        ),
        (
            "engines: [{kind: openai, model: gpt-4.1-mini, max_retries: 0}]",
            [OpenAICompatibleConfig(model="gpt-4.1-mini", max_retries=0)],
        ),
        (
            "engines: [{kind: openai, name: ollama, base_url: 'http://127.0.0.1:11434/v1', model: qwen}]",
            [OpenAICompatibleConfig(name="ollama", base_url="http://127.0.0.1:11434/v1", model="qwen")],
        ),
        (
            "engines: [{kind: vllm}, {kind: vllm, model_id: Qwen/Qwen2.5-0.5B-Instruct, num_gpus: 0.5}]",
            [VLLMConfig(), VLLMConfig(model_id="Qwen/Qwen2.5-0.5B-Instruct", num_gpus=0.5)],
        ),
    ],
)
def test_config_from_yaml(tmp_path: Path, document: str, expected: list[Any]) -> None:
    path = tmp_path / "chat.yaml"
    path.write_text(document, encoding="utf-8")
    assert ChatChainConfig.from_yaml(path).engines == expected


def test_the_documented_example_parses() -> None:
    doc = models.chat_engines.__doc__ or ""
    example = textwrap.dedent(doc.split("\n\n")[1])
    config = ChatChainConfig.model_validate(yaml.safe_load(example))
    assert [step.kind for step in config.engines] == ["llama_cpp", "openai", "openai", "vllm"]


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ({"engines": [{"kind": "gemini"}]}, "does not match any of the expected tags"),
        ({"engines": [{"kind": "llama_cpp", "n_thread": 2}]}, "Extra inputs are not permitted"),
        ({"engines": [{"kind": "openai", "timeout_s": 0}]}, "greater than 0"),
        ({"engines": [{"kind": "openai", "api_key": 12}]}, "string"),
        ({"engines": [{"kind": "vllm", "accelerator_type": "H1OO"}]}, "unknown accelerator type"),
        ({"engines": [{"kind": "vllm", "num_gpus": 0.5, "tensor_parallel_size": 2}]}, "fraction of a GPU"),
        ({"engines": [{"kind": "vllm", "min_replicas": 3, "max_replicas": 2}]}, "min_replicas"),
        ({"engines": [{"kind": "vllm", "gpu_memory_utilization": 1.5}]}, "less than or equal to 1"),
        ({"timeout_s": -1}, "greater than 0"),
        ({"engine": []}, "Extra inputs are not permitted"),
    ],
)
def test_bad_configs_fail_when_loaded(document: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        ChatChainConfig.model_validate(document)


@pytest.mark.parametrize(
    "config",
    [
        VLLMConfig(),
        VLLMConfig(accelerator_type="L4", model_source="/models/qwen", num_gpus=0.5, max_replicas=4),
        VLLMConfig(tensor_parallel_size=2, accelerator_type="H100", max_model_len=32768),
    ],
)
def test_vllm_config_is_a_valid_ray_serve_llm_config(config: VLLMConfig) -> None:
    # The class behind ray.serve.llm.LLMConfig: its module imports without vLLM, unlike ray.serve.llm.
    from ray.llm._internal.serve.core.configs.llm_config import LLMConfig, ModelLoadingConfig

    llm_config = LLMConfig(**config.llm_config_kwargs())
    assert llm_config.model_id == config.model_id
    assert isinstance(llm_config.model_loading_config, ModelLoadingConfig)
    assert llm_config.model_loading_config.model_source == (config.model_source or config.model_id)
    assert llm_config.engine_kwargs["tensor_parallel_size"] == config.tensor_parallel_size
    assert llm_config.accelerator_type == config.accelerator_type
    assert llm_config.accelerator_config is not None and llm_config.accelerator_config.kind == "gpu"


def test_the_vllm_step_is_the_http_client_of_its_openai_app_with_the_cluster_key() -> None:
    key = SecretStr("llm-key-0123456789abcdef0123456789")
    engine = build_engine(VLLMConfig(base_url="http://10.0.0.5:8000/llm/v1"), Settings(llm_api_key=key))
    assert isinstance(engine, OpenAICompatibleEngine)
    assert engine.name == "vllm:Qwen/Qwen2.5-7B-Instruct"
    assert str(engine.client.base_url) == "http://10.0.0.5:8000/llm/v1/"
    assert engine.config.model == "Qwen/Qwen2.5-7B-Instruct"
    assert engine.client.headers["Authorization"] == f"Bearer {key.get_secret_value()}"
    # Without the key the step keeps its place and says why it is skipped.
    disabled = build_engine(VLLMConfig(), NO_KEY)
    assert isinstance(disabled, DisabledEngine) and "LLM_API_KEY" in disabled.reason


@pytest.mark.parametrize(
    ("step", "key", "expected"),
    [
        (OpenAICompatibleConfig(), None, DisabledEngine),
        (OpenAICompatibleConfig(), SecretStr("sk-1"), OpenAICompatibleEngine),
        (OpenAICompatibleConfig(base_url="http://127.0.0.1:11434/v1"), None, OpenAICompatibleEngine),
    ],
)
def test_openai_itself_runs_only_with_a_key_and_behind_redaction(
    step: OpenAICompatibleConfig, key: SecretStr | None, expected: type
) -> None:
    settings = Settings(openai_api_key=key, openai_base_url="https://api.example.test/v1")
    built = build_engine(step, settings)
    engine = built.wrapped if isinstance(built, RedactingEngine) else built
    assert isinstance(engine, expected)
    assert isinstance(built, RedactingEngine) is (expected is OpenAICompatibleEngine)  # a third party's
    if isinstance(engine, OpenAICompatibleEngine) and step.base_url is None:
        assert str(engine.client.base_url) == "https://api.example.test/v1/"
        assert engine.client.headers["Authorization"] == "Bearer sk-1"


@pytest.mark.slow  # loads llama.cpp
@pytest.mark.anyio
async def test_the_default_chain_answers_locally(tmp_path: Path) -> None:
    path = tmp_path / "chat.yaml"
    path.write_text("engines: [{kind: llama_cpp, n_threads: 2, max_tokens: 16}, {kind: openai}]\n")
    chain = build_chain(ChatChainConfig.from_yaml(path), NO_KEY)
    assert [type(engine) for engine in chain.engines] == [LlamaCppEngine, DisabledEngine]
    result = await chain.generate(REQUEST)
    assert result.engine == "llama_cpp:SmolLM2-135M-Instruct.Q4_1"
    assert result.fallback == []
    assert 0 < result.completion_tokens <= 16


@pytest.fixture(params=["llama_cpp", "openai"])
async def engine(
    request: pytest.FixtureRequest, smollm2: LlamaCppEngine, chat_stand_in: ChatStandIn
) -> AsyncIterator[ChatEngine]:
    if request.param == "llama_cpp":
        yield smollm2
        return
    client = OpenAICompatibleEngine(OpenAICompatibleConfig(base_url=chat_stand_in.base_url, model="gpt-test"))
    yield client
    await client.aclose()


@pytest.mark.anyio
async def test_congruence_of_the_in_process_and_http_engines(engine: ChatEngine) -> None:
    request = REQUEST.model_copy(update={"max_tokens": 24})
    result = await engine.generate(request)
    assert result.text.strip() and result.engine == engine.name
    assert 0 < result.completion_tokens <= 24 and result.prompt_tokens > 0
    assert result.finish_reason in {"stop", "length"}
    deltas = [delta async for delta in engine.stream(request)]
    assert len(deltas) > 1 and "".join(deltas) == result.text
    cut = await engine.generate(REQUEST.model_copy(update={"max_tokens": 3}))
    assert (cut.completion_tokens, cut.finish_reason) == (3, "length")
