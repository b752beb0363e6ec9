"""Typed configuration of the search application: what `build_app` validates its Serve args into.

The Serve config file (`configs/cpu.yaml`) carries a `SearchAppConfig` as the `args` of its
application, so `serve deploy`, `serve run` and `serve_api` read one and the same file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.settings import Settings
from homologacao.config import HomologacaoConfig
from models.chat_engines import ChatChainConfig
from models.embedders import EmbedderConfig
from serve_app.limits import LimitsOptions
from services.ask import AskOptions

BUILDER_IMPORT_PATH = "serve_app.app:build_app"
DEFAULT_SERVE_CONFIG: Path = Settings.model_fields["serve_config"].default


class StrictModel(BaseModel):
    # A misspelt option must fail the deploy, not silently fall back to a default.
    model_config = ConfigDict(extra="forbid")


class AutoscalingOptions(StrictModel):
    min_replicas: int = Field(default=1, ge=0, description="Replicas kept when idle.")
    max_replicas: int = Field(default=1, ge=1, description="Most replicas under load.")
    target_ongoing_requests: float = Field(
        default=2.0, gt=0, description="Requests in flight per replica that the autoscaler aims for."
    )
    downscale_delay_s: float = Field(
        default=600.0,
        ge=0,
        description="How long the load must stay low before a replica goes: how long an idle GPU replica, and"
        " the node it holds, are paid for after the last request.",
    )

    @model_validator(mode="after")
    def _min_not_above_max(self) -> AutoscalingOptions:
        if self.min_replicas > self.max_replicas:
            raise ValueError("autoscaling_config: min_replicas must not exceed max_replicas")
        return self


class ActorOptions(StrictModel):
    num_cpus: float = Field(
        default=1.0, ge=0, description="CPUs reserved per replica (torch threads follow it)."
    )
    num_gpus: float = Field(
        default=0.0, ge=0, description="GPUs reserved per replica (fractions share one GPU)."
    )
    accelerator_type: str | None = Field(
        default=None, description="GPU model the replica must land on (Ray's names: L4, A10G, H100…)."
    )
    resources: dict[str, float] | None = Field(
        default=None,
        description="Custom resources the replica's node must offer: cluster.yaml's `cpu_node` keeps CPU"
        " replicas off the GPU nodes, which Serve's spreading would otherwise fill and keep from going idle.",
    )


class DeploymentOptions(StrictModel):
    """Replica count (fixed or autoscaled) and resources of one deployment."""

    num_replicas: int | None = Field(
        default=None, ge=1, description="Fixed replica count; leave unset to use autoscaling_config (or 1)."
    )
    autoscaling_config: AutoscalingOptions | None = Field(
        default=None, description="Scale between min and max replicas on ongoing requests."
    )
    max_ongoing_requests: int = Field(default=32, ge=1, description="Requests one replica accepts at once.")
    max_queued_requests: int = Field(
        default=-1,
        ge=-1,
        description=(
            "Requests callers may queue for the deployment beyond that; past it a call fails at once "
            "(back-pressure) instead of waiting. -1: no limit."
        ),
    )
    ray_actor_options: ActorOptions = Field(default_factory=ActorOptions)

    @model_validator(mode="after")
    def _fixed_or_autoscaled(self) -> DeploymentOptions:
        if self.num_replicas is not None and self.autoscaling_config is not None:
            raise ValueError("set num_replicas or autoscaling_config, not both")
        return self

    def max_replicas(self) -> int:
        if self.autoscaling_config is not None:
            return self.autoscaling_config.max_replicas
        return self.num_replicas or 1

    def serve_options(self) -> dict[str, Any]:
        """Keyword arguments for `serve.deployment`."""
        options: dict[str, Any] = {
            "max_ongoing_requests": self.max_ongoing_requests,
            "ray_actor_options": self.ray_actor_options.model_dump(exclude_none=True),
        }
        if self.max_queued_requests != -1:
            options["max_queued_requests"] = self.max_queued_requests
        if self.autoscaling_config is not None:
            options["autoscaling_config"] = self.autoscaling_config.model_dump()
        else:
            options["num_replicas"] = self.num_replicas or 1
        return options


class RouterOptions(DeploymentOptions):
    """The HelioRouter ingress: query understanding, retrieval and ranking run here."""

    max_ongoing_requests: int = Field(default=64, ge=1, description="Requests one replica accepts at once.")
    ray_actor_options: ActorOptions = Field(default_factory=lambda: ActorOptions(num_cpus=0.5))
    embed_timeout_s: float = Field(
        default=2.0, gt=0, description="Longest wait for a query embedding before answering 503."
    )
    index_timeout_s: float = Field(
        default=5.0,
        gt=0,
        # Above the index owner's restart (≈2.5 s here): calls Ray replays on the new actor then succeed.
        description="Longest wait for the vector index before answering 503.",
    )
    query_cache_entries: int = Field(
        default=2048,
        ge=0,
        description="Recent query embeddings a replica keeps (≈1.5 KB each at 384-d); 0 embeds every query.",
    )
    brands_refresh_s: float = Field(
        default=60.0, gt=0, description="How often the known brands are re-read from the index."
    )
    candidates: int = Field(
        default=100, ge=1, description="Hits each branch (dense, lexical) prefetches before RRF."
    )
    rank_pool: int = Field(
        default=50, ge=1, description="Fused hits handed to ranking; the response keeps the best `limit`."
    )
    recommend_refresh_s: float = Field(
        default=10.0,
        gt=0,
        description="How often the kit recommender checks the offers change feed, and reloads the catalog "
        "from Postgres when it moved (every 300 s regardless, for the tariffs).",
    )
    recommend_max_options: int = Field(
        default=5, ge=1, description="Most kit options a recommendation returns (the kit search keeps 10)."
    )
    recommend_db_timeout_s: float = Field(
        default=5.0, gt=0, description="Longest wait to connect to Postgres when loading the catalog."
    )
    limits: LimitsOptions = Field(default_factory=LimitsOptions, description="Per-client rate, body sizes.")


class EmbedderOptions(DeploymentOptions):
    """The QueryEmbedder: one model per replica, concurrent queries batched."""

    placement: Literal["deployment", "router"] = Field(
        default="deployment",
        description="`deployment`: its own replicas (a GPU, or autoscaled apart from the routers); `router`: "
        "each router replica holds the model and encodes in a worker thread, one Ray hop fewer per search — "
        "for a CPU model small enough to sit beside the router (cpu.yaml). With `router`, this section's "
        "replica and resource options are unused.",
    )
    max_batch_size: int = Field(default=16, ge=1, description="Most queries encoded in one batch.")
    batch_wait_timeout_s: float = Field(
        default=0.005, ge=0, description="How long a batch waits to fill before it is encoded."
    )

    @model_validator(mode="after")
    def _batch_fits_in_flight(self) -> EmbedderOptions:
        if self.max_batch_size > self.max_ongoing_requests:
            raise ValueError("max_batch_size must not exceed max_ongoing_requests: such a batch never fills")
        return self


class KitComposerOptions(DeploymentOptions):
    """Where /recommend composes its kits: in the router's threads, or the KitComposer deployment."""

    placement: Literal["router", "deployment"] = Field(
        default="router",
        description="`router`: in the router replica's worker threads, beside its searches on one GIL; "
        "`deployment`: replicas of their own (serve_app.kits), each with its copy of the catalog, so "
        "concurrent compositions use other cores and scale apart from the routers. With `router`, this "
        "section's replica and resource options are unused.",
    )
    max_ongoing_requests: int = Field(
        default=2,
        ge=1,
        description="Compositions one replica runs at once; more wait at the router's handle, which sends "
        "them to the least busy replica (they are pure Python: one replica's share one core).",
    )
    ray_actor_options: ActorOptions = Field(default_factory=lambda: ActorOptions(num_cpus=0.5))
    timeout_s: float = Field(
        default=10.0, gt=0, description="Longest wait for a composition before answering 503."
    )


class ChatModelOptions(DeploymentOptions):
    """The ChatModel deployment (the chain's llama.cpp step): one model per replica."""

    max_ongoing_requests: int = Field(default=4, ge=1, description="Requests one replica accepts at once.")
    # Logical CPUs: with the router's 0.5 and the embedder's 1 this fits a 2-core machine; llama.cpp's
    # own threads are the engine's n_threads.
    ray_actor_options: ActorOptions = Field(default_factory=lambda: ActorOptions(num_cpus=0.5))


class SearchAppConfig(StrictModel):
    embedder: EmbedderConfig = Field(
        default_factory=EmbedderConfig,
        description="Query model; its vector_name must be a named vector of the catalog collection.",
    )
    router: RouterOptions = Field(default_factory=RouterOptions)
    query_embedder: EmbedderOptions = Field(default_factory=EmbedderOptions)
    kit_composer: KitComposerOptions = Field(default_factory=KitComposerOptions)
    chat: ChatChainConfig = Field(
        default_factory=ChatChainConfig, description="The fallback chain; the extractive answer follows it."
    )
    chat_model: ChatModelOptions = Field(default_factory=ChatModelOptions)
    ask: AskOptions = Field(default_factory=AskOptions)
    homologacao: HomologacaoConfig = Field(
        default_factory=HomologacaoConfig, description="Limits, tolerances and sizes of the package checks."
    )

    def reserved_cpus(self) -> float:
        """Logical CPUs the app's replicas hold at their most (every deployment at max_replicas)."""
        deployments = [self.router, self.chat_model]
        if self.query_embedder.placement == "deployment":
            deployments.append(self.query_embedder)
        if self.kit_composer.placement == "deployment":
            deployments.append(self.kit_composer)
        return sum(d.max_replicas() * d.ray_actor_options.num_cpus for d in deployments)

    @classmethod
    def from_yaml(cls, path: Path) -> SearchAppConfig:
        """Read a Serve config file (the args of its `build_app` application) or a bare config."""
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if "applications" not in document:
            return cls.model_validate(document)
        for application in document["applications"]:
            if application.get("import_path") == BUILDER_IMPORT_PATH:
                return cls.model_validate(application.get("args") or {})
        raise ValueError(f"{path}: no application with import_path {BUILDER_IMPORT_PATH}")
