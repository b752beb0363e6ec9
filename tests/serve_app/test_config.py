"""The shipped Serve config builds the app through `build_app`; invalid configs fail before deploying."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from ray.serve import Application
from ray.serve.schema import ServeDeploySchema

from serve_app.app import build_app
from serve_app.config import BUILDER_IMPORT_PATH, DEFAULT_SERVE_CONFIG, SearchAppConfig


def _serve_config() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DEFAULT_SERVE_CONFIG.read_text(encoding="utf-8"))
    return document


def test_cpu_yaml_is_a_serve_config_for_our_builder() -> None:
    schema = ServeDeploySchema.model_validate(_serve_config())
    (application,) = schema.applications
    assert application.import_path == BUILDER_IMPORT_PATH
    assert application.route_prefix == "/"


def test_cpu_yaml_args_build_the_app() -> None:
    (application,) = _serve_config()["applications"]
    assert isinstance(build_app(application["args"]), Application)


def test_from_yaml_reads_the_serve_config_args() -> None:
    config = SearchAppConfig.from_yaml(DEFAULT_SERVE_CONFIG)
    (application,) = _serve_config()["applications"]
    assert config == SearchAppConfig.model_validate(application["args"])
    assert config.embedder.vector_name == "minilm-l6"


def test_from_yaml_reads_a_bare_config(tmp_path: Path) -> None:
    path = tmp_path / "search.yaml"
    path.write_text("query_embedder: {max_batch_size: 8}\n", encoding="utf-8")
    assert SearchAppConfig.from_yaml(path).query_embedder.max_batch_size == 8


def test_from_yaml_needs_our_application(tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text("applications: [{name: other, import_path: other.app:build}]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=BUILDER_IMPORT_PATH):
        SearchAppConfig.from_yaml(path)


def test_the_chat_model_sheds_load_instead_of_queueing() -> None:
    """Past its queue a call fails at once, so the chain answers extractively rather than waiting: a
    question waits behind one generation at most, and never past the chain's timeout."""
    config = SearchAppConfig.from_yaml(DEFAULT_SERVE_CONFIG)
    shipped = config.chat_model.serve_options()
    assert shipped["max_ongoing_requests"] + shipped["max_queued_requests"] <= 2
    assert config.chat.timeout_s is not None and config.chat.timeout_s <= 20
    assert "max_queued_requests" not in SearchAppConfig().router.serve_options()  # Serve's default: none


def test_deployment_options_fixed_or_autoscaled() -> None:
    config = SearchAppConfig.model_validate(
        {
            "router": {"num_replicas": 2, "ray_actor_options": {"num_cpus": 0.25}},
            "query_embedder": {
                "autoscaling_config": {
                    "min_replicas": 0,
                    "max_replicas": 4,
                    "target_ongoing_requests": 8,
                    "downscale_delay_s": 30,
                },
                "ray_actor_options": {"num_gpus": 0.5},
            },
        }
    )
    assert config.router.serve_options() == {
        "num_replicas": 2,
        "max_ongoing_requests": 64,
        "ray_actor_options": {"num_cpus": 0.25, "num_gpus": 0.0},
    }
    embedder = config.query_embedder.serve_options()
    assert "num_replicas" not in embedder
    assert embedder["autoscaling_config"] == {
        "min_replicas": 0,
        "max_replicas": 4,
        "target_ongoing_requests": 8,
        "downscale_delay_s": 30,
    }
    assert embedder["ray_actor_options"] == {"num_cpus": 1.0, "num_gpus": 0.5}


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        ({"router": {"num_replicaz": 2}}, "num_replicaz"),
        ({"surprise": True}, "surprise"),
        ({"router": {"num_replicas": 2, "autoscaling_config": {}}}, "not both"),
        ({"query_embedder": {"autoscaling_config": {"min_replicas": 3, "max_replicas": 2}}}, "min_replicas"),
        ({"query_embedder": {"max_batch_size": 0}}, "max_batch_size"),
        ({"query_embedder": {"max_batch_size": 64, "max_ongoing_requests": 16}}, "never fills"),
        ({"router": {"ray_actor_options": {"num_cpus": -1}}}, "num_cpus"),
        ({"router": {"embed_timeout_s": 0}}, "embed_timeout_s"),
        ({"embedder": {"kind": "tensorrt"}}, "kind"),
        ({"query_embedder": {"placement": "proxy"}}, "placement"),
    ],
)
def test_bad_config_is_rejected(args: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        build_app(args)


def test_the_gpu_profile_loads() -> None:
    config = SearchAppConfig.from_yaml(DEFAULT_SERVE_CONFIG.parent / "gpu.yaml")
    assert config.embedder.device == "cuda"
    assert config.query_embedder.serve_options()["ray_actor_options"] == {
        "num_cpus": 1.0,
        "num_gpus": 0.25,
        "accelerator_type": "L4",
    }
    assert [engine.kind for engine in config.chat.engines] == ["vllm", "openai"]
