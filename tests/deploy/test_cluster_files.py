"""cluster.yaml and Dockerfile.gpu, checked where they cannot run: the cluster launcher's own JSON schema
(shipped inside the `ray` package) and the invariants the platform relies on; the image by parsing."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from typing import Any

import jsonschema
import pytest
import yaml

from common.settings import PROJECT_ROOT
from serve_app.config import DEFAULT_SERVE_CONFIG, SearchAppConfig

CLUSTER = yaml.safe_load((PROJECT_ROOT / "cluster.yaml").read_text(encoding="utf-8"))
DOCKERFILE = (PROJECT_ROOT / "Dockerfile.gpu").read_text(encoding="utf-8")
NODE_TYPES: dict[str, Any] = CLUSTER["available_node_types"]


def test_cluster_yaml_passes_the_autoscaler_schema() -> None:
    schema = json.loads(files("ray.autoscaler").joinpath("ray-schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(CLUSTER, schema)


def test_the_head_takes_no_work_and_gpu_workers_scale_from_zero() -> None:
    head = NODE_TYPES[CLUSTER["head_node_type"]]
    assert head["resources"].get("CPU") == 0 and not head["resources"].get("GPU")
    gpu_types = [
        name for name, node in NODE_TYPES.items() if any("accelerator_type" in r for r in node["resources"])
    ]
    assert gpu_types and all(NODE_TYPES[name]["min_workers"] == 0 for name in gpu_types)


def test_the_gpu_serve_profile_lands_on_a_node_type_of_the_cluster() -> None:
    config = SearchAppConfig.from_yaml(DEFAULT_SERVE_CONFIG.parent / "gpu.yaml")
    offered = {r.removeprefix("accelerator_type:") for node in NODE_TYPES.values() for r in node["resources"]}
    wanted = {config.query_embedder.ray_actor_options.accelerator_type} | {
        engine.accelerator_type for engine in config.chat.engines if getattr(engine, "accelerator_type", None)
    }
    assert wanted <= offered


def test_the_resource_plan_leaves_the_jobs_half_the_always_on_cpus() -> None:
    """cluster.yaml's plan: the router and kit composer replicas share the CPU workers with the jobs' Ray
    Data tasks and hold at most half the CPUs of those always up; the query embedder goes to the GPU
    workers."""
    config = SearchAppConfig.from_yaml(DEFAULT_SERVE_CONFIG.parent / "gpu.yaml")
    cpu_worker = NODE_TYPES["cpu_worker"]
    always_on_cpus = cpu_worker["min_workers"] * cpu_worker["resources"]["CPU"]
    cpu_side = [config.router, config.kit_composer]
    assert config.kit_composer.placement == "deployment"
    for deployment in cpu_side:
        actor = deployment.ray_actor_options
        assert actor.accelerator_type is None and actor.num_gpus == 0
    held = sum(d.max_replicas() * d.ray_actor_options.num_cpus for d in cpu_side)
    assert held <= always_on_cpus / 2
    assert config.query_embedder.ray_actor_options.accelerator_type is not None


def test_the_cpu_replicas_cannot_land_on_a_gpu_node() -> None:
    """Serve spreads replicas over every node with room: the router and the kit composers ask for a resource
    that only CPU node types offer, so no GPU node holds one and an idle GPU node can go."""
    config = SearchAppConfig.from_yaml(DEFAULT_SERVE_CONFIG.parent / "gpu.yaml")
    for deployment in (config.router, config.kit_composer):
        wanted = deployment.ray_actor_options.resources or {}
        hosts = [node for node in NODE_TYPES.values() if wanted.keys() <= node["resources"].keys()]
        assert wanted and hosts and not any(node["resources"].get("GPU") for node in hosts)


def test_the_simulated_cluster_is_cluster_yaml() -> None:
    """tests/common/test_autoscaling.py runs the autoscaler on node types derived from this file: the same
    head, types, resources and minimums; only the maximum per type is cut to what this machine holds."""
    from tests.simulated_cluster import SIMULATED_HEAD_TYPE, autoscaling_config

    simulated = autoscaling_config(CLUSTER, "127.0.0.1:6379", idle_timeout_minutes=0.1)
    types = simulated["available_node_types"]
    head = CLUSTER["head_node_type"]
    assert types.pop(SIMULATED_HEAD_TYPE)["resources"] == NODE_TYPES[head]["resources"]
    assert types.keys() == NODE_TYPES.keys() - {head}
    for name, node in types.items():
        assert node["resources"] == NODE_TYPES[name]["resources"]
        assert node["min_workers"] == NODE_TYPES[name]["min_workers"]
        assert 1 <= node["max_workers"] <= NODE_TYPES[name]["max_workers"]
    assert simulated["upscaling_speed"] == CLUSTER["upscaling_speed"]


@pytest.mark.parametrize(
    ("what", "pattern"),
    [
        ("a CUDA runtime base", r"^FROM nvidia/cuda:[\w.-]+-runtime-"),
        ("Python 3.11", r"python3\.11"),
        ("the project with its gpu extra", r"pip install .*-e '\.\[gpu\]'"),
        ("a model cache volume", r'^VOLUME \["/models"\]'),
        ("a non-root user last", r"^USER (?!root)\w+\s*\Z"),
    ],
)
def test_dockerfile_gpu(what: str, pattern: str) -> None:
    assert re.search(pattern, DOCKERFILE, re.MULTILINE), what


def test_no_secret_goes_into_the_image() -> None:
    assert not re.search(
        r"^(ENV|ARG)\b.*(KEY|SECRET|TOKEN|PASSWORD)", DOCKERFILE, re.MULTILINE | re.IGNORECASE
    )
    ignored = (PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".data", ".venv"} <= set(ignored)


def test_the_gpu_embedding_job_fits_the_gpu_workers() -> None:
    from ray_jobs.indexing import EmbedJobConfig

    config = EmbedJobConfig.from_yaml(PROJECT_ROOT / "ray_jobs" / "configs" / "embed-gpu.yaml")
    assert config.embedder.device == "cuda" and 0 < config.num_gpus_per_actor <= 1
    gpu_nodes = [
        node for node in NODE_TYPES.values() if any("accelerator_type" in r for r in node["resources"])
    ]
    # Each GPU node has one GPU (cluster.yaml): the whole pool must be placeable at once.
    gpus = sum(node["max_workers"] for node in gpu_nodes)
    assert config.max_actors * config.num_gpus_per_actor <= gpus
