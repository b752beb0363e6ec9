"""Builders: a typed config in, a Serve application out. The Serve YAML points at `build_app`.

Replicas get the settings without their secrets (bind arguments show in `serve status` and the
dashboard) and read the secrets from their own environment: the nodes' (a Kubernetes secret, the
cluster's env), or on the local stack the environment its Ray started with.
"""

from __future__ import annotations

from functools import partial
from typing import Any, cast

from ray import serve
from ray.serve import Application, Deployment

from common.settings import Settings, get_settings
from serve_app.config import DeploymentOptions, SearchAppConfig
from serve_app.embedder import QueryEmbedder, load_query_embedder
from serve_app.kits import KitComposer
from serve_app.llm import ChatModel, local_engine_config
from serve_app.router import HelioRouter


def _deployment(cls: type, name: str, options: DeploymentOptions) -> Deployment:
    # serve.deployment is annotated for its decorator form only; given a class it returns a Deployment.
    return cast(Deployment, serve.deployment(cls, name=name, **options.serve_options()))


def build_search_app(config: SearchAppConfig, settings: Settings) -> Application:
    public = settings.without_secrets()
    embedder = (
        _deployment(QueryEmbedder, "QueryEmbedder", config.query_embedder).bind(
            config.embedder,
            config.query_embedder.max_batch_size,
            config.query_embedder.batch_wait_timeout_s,
            partial(load_query_embedder, settings=public),
        )
        if config.query_embedder.placement == "deployment"
        else None  # each router replica holds the model (HelioRouter)
    )
    local = local_engine_config(config.chat)
    chat_model = (
        _deployment(ChatModel, "ChatModel", config.chat_model).bind(local) if local is not None else None
    )
    kit_composer = (
        _deployment(KitComposer, "KitComposer", config.kit_composer).bind(config.router, public)
        if config.kit_composer.placement == "deployment"
        else None  # each router replica composes in its worker threads (create_search_api)
    )
    router = _deployment(serve.ingress()(HelioRouter), "HelioRouter", config.router)
    return router.bind(embedder, chat_model, kit_composer, config, public)


def build_app(args: dict[str, Any]) -> Application:
    """Entry point of `import_path: serve_app.app:build_app`; `args` is a SearchAppConfig."""
    return build_search_app(SearchAppConfig.model_validate(args), get_settings())
