"""The GPU chat engine: vLLM served by Ray Serve LLM (`ray.serve.llm`), Qwen2.5-7B-Instruct by default.

`VLLMConfig` is our typed, YAML-loadable view of one served model. `llm_config()` turns it into a
`ray.serve.llm.LLMConfig`, which `ray.serve.llm.build_openai_app` deploys on the GPU workers as
an OpenAI-compatible app (POST <route_prefix>/v1/chat/completions).

The router talks to that app over HTTP, through `OpenAICompatibleEngine` (`client_config()`, with the
cluster's LLM_API_KEY, which the app's keyed ingress requires: models/llm_ingress.py), rather than
through a handle to the `LLMServer` deployment:
- the router runs on CPU nodes without vLLM, and `LLMServer`'s request models
  (`ray.serve.llm.openai_api_models`) import vLLM, so a handle-based engine could not even build
  a request there;
- the OpenAI app is Ray's stable, documented surface, and the same client already carries the
  timeouts, retries with backoff and 429 handling, and is tested against a local stand-in;
- the price is one Serve HTTP hop (≈27 ms measured here), small next to a 7B model's generation.
vLLM itself is imported only where the model runs (inside `ray.serve.llm`, on GPU nodes); this
module imports `ray.serve.llm` only when `llm_config()` is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from models.openai_engine import OpenAICompatibleConfig

if TYPE_CHECKING:
    from ray.serve.llm import LLMConfig


class VLLMConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["vllm"] = "vllm"
    model_id: str = Field(
        default="Qwen/Qwen2.5-7B-Instruct",
        description="Name the model is served (and asked for) under; also its Hugging Face id "
        "unless model_source says otherwise.",
    )
    model_source: str | None = Field(
        default=None, description="Hugging Face id or local path of the weights; None uses model_id."
    )
    tensor_parallel_size: int = Field(default=1, ge=1, description="GPUs one model replica spans.")
    max_model_len: int = Field(default=8192, ge=256, description="Context window, prompt plus answer.")
    gpu_memory_utilization: float = Field(
        default=0.9, gt=0, le=1, description="Share of each GPU's memory vLLM may take (weights + KV cache)."
    )
    accelerator_type: str | None = Field(
        default=None, description="Ray accelerator type (A10G, L4, L40S, H100...); None takes any GPU."
    )
    num_gpus: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="GPU per engine worker (one worker per tensor-parallel rank); below 1 lets "
        "small models share a GPU.",
    )
    min_replicas: int = Field(default=1, ge=0, description="Replicas kept when idle.")
    max_replicas: int = Field(default=1, ge=1, description="Most replicas under load.")
    base_url: str = Field(
        default="http://127.0.0.1:8000/llm/v1",
        description="Where the router reaches the OpenAI app built from llm_config(): the Serve "
        "HTTP address, the app's route_prefix, then /v1.",
    )
    timeout_s: float = Field(
        default=60.0, gt=0, description="Per-attempt timeout of the router's HTTP client."
    )

    @field_validator("accelerator_type")
    @classmethod
    def _known_accelerator(cls, value: str | None) -> str | None:
        """Ray's accelerator names; a typo fails when the config loads, not on the GPU node."""
        import ray.util.accelerators.accelerators as known

        names = {v for k, v in vars(known).items() if not k.startswith("_") and isinstance(v, str)}
        if value is not None and value not in names:
            raise ValueError(f"unknown accelerator type {value!r}; Ray knows {sorted(names)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> VLLMConfig:
        if self.num_gpus < 1 and self.tensor_parallel_size > 1:
            raise ValueError("a fraction of a GPU per worker only works without tensor parallelism")
        if self.min_replicas > self.max_replicas:
            raise ValueError("min_replicas must not exceed max_replicas")
        return self

    def llm_config_kwargs(self) -> dict[str, Any]:
        """The arguments of `ray.serve.llm.LLMConfig` (plain data: no Ray LLM or vLLM import)."""
        return {
            "model_loading_config": {
                "model_id": self.model_id,
                "model_source": self.model_source or self.model_id,
            },
            "engine_kwargs": {
                "tensor_parallel_size": self.tensor_parallel_size,
                "max_model_len": self.max_model_len,
                "gpu_memory_utilization": self.gpu_memory_utilization,
            },
            "accelerator_type": self.accelerator_type,
            "placement_group_config": {"bundle_per_worker": {"GPU": self.num_gpus}},
            "deployment_config": {
                "autoscaling_config": {
                    "min_replicas": self.min_replicas,
                    "max_replicas": self.max_replicas,
                }
            },
        }

    def llm_config(self) -> LLMConfig:
        """The `ray.serve.llm.LLMConfig` for `build_openai_app` (needs vLLM installed, as on GPU nodes)."""
        from ray.serve.llm import LLMConfig

        return LLMConfig(**self.llm_config_kwargs())

    def client_config(self, api_key: SecretStr) -> OpenAICompatibleConfig:
        """The router's engine for this model: the OpenAI-compatible client pointed at the app, with the
        key its ingress requires (models/llm_ingress.py)."""
        return OpenAICompatibleConfig(
            name=f"vllm:{self.model_id}",
            base_url=self.base_url,
            model=self.model_id,
            timeout_s=self.timeout_s,
            api_key=api_key,
        )
