"""Ray clusters of several nodes simulated on this machine for the cluster tests: each node its own raylet
of one GCS, apart from the suite's own Ray. None of them calls `ray stop`, which would end every Ray on the
machine (Ray's `AutoscalingCluster` does; so its fake multi-node provider is driven here instead).

The autoscaling one reads `cluster.yaml` itself: the head's resources, and each worker type's resources
and minimum, are cluster.yaml's, so the simulation cannot drift from the file it stands for; only the
maximum per type is cut to what two cores hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml
from ray.cluster_utils import Cluster

from common.settings import PROJECT_ROOT
from tests.conftest import free_port

CLUSTER_YAML: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "cluster.yaml").read_text(encoding="utf-8"))
# The fake provider tags the head with this type name, whatever the real file calls it.
SIMULATED_HEAD_TYPE = "ray.head.default"


def simulated_node_types(cluster: Mapping[str, Any], most_per_type: int = 1) -> dict[str, dict[str, Any]]:
    """The worker node types of a cluster launcher config as the fake multi-node provider starts them."""
    types = cluster["available_node_types"]
    return {
        name: {
            "resources": dict(node["resources"]),
            "node_config": {},
            "min_workers": node.get("min_workers", 0),
            "max_workers": max(node.get("min_workers", 0), min(node["max_workers"], most_per_type)),
        }
        for name, node in types.items()
        if name != cluster["head_node_type"]
    }


def head_resources(cluster: Mapping[str, Any]) -> dict[str, float]:
    return dict(cluster["available_node_types"][cluster["head_node_type"]]["resources"])


def autoscaling_config(
    cluster: Mapping[str, Any], gcs_address: str, idle_timeout_minutes: float
) -> dict[str, Any]:
    """An autoscaler config for the fake multi-node provider, with `cluster`'s node types."""
    return {
        "cluster_name": f"simulated-{cluster['cluster_name']}",
        "max_workers": sum(t["max_workers"] for t in simulated_node_types(cluster).values()),
        "upscaling_speed": cluster["upscaling_speed"],
        "idle_timeout_minutes": idle_timeout_minutes,
        "provider": {
            "type": "fake_multinode",
            "gcs_address": gcs_address,
            "use_node_id_as_ip": True,
            "disable_node_updaters": True,
            "disable_launch_config_check": True,
        },
        "head_node_type": SIMULATED_HEAD_TYPE,
        "available_node_types": {
            SIMULATED_HEAD_TYPE: {"resources": head_resources(cluster), "node_config": {}, "max_workers": 0},
            **simulated_node_types(cluster),
        },
        "auth": {},
        "docker": {},
        "file_mounts": {},
        "cluster_synced_files": [],
        "file_mounts_sync_continuously": False,
        "rsync_exclude": [],
        "rsync_filter": [],
        "initialization_commands": [],
        "setup_commands": [],
        "head_setup_commands": [],
        "worker_setup_commands": [],
        "head_start_ray_commands": [],
        "worker_start_ray_commands": [],
    }


@contextmanager
def simulated_cluster(
    tmp_path: Path,
    *,
    head_cpus: float = 0,
    worker_cpus: tuple[float, ...] = (),
    autoscaling: Mapping[str, Any] | None = None,
    idle_timeout_minutes: float = 0.1,
    redis_address: str | None = None,
) -> Iterator[Cluster]:
    """A Ray cluster on this machine: a head offering `head_cpus` and a worker per `worker_cpus`; or, with
    `autoscaling` (a cluster launcher config), cluster.yaml's head and the autoscaler starting and
    removing workers of its types. With `redis_address`, the GCS keeps its tables in that Redis (GCS
    fault tolerance), so a GCS restarted on the head finds the cluster as it left it."""
    head_args: dict[str, Any] = {
        "num_cpus": head_cpus,
        "include_dashboard": True,
        "dashboard_port": free_port(),
    }
    env: dict[str, str] = {}
    if autoscaling is not None:
        port = free_port()
        from ray._private.services import get_node_ip_address

        config = autoscaling_config(autoscaling, f"{get_node_ip_address()}:{port}", idle_timeout_minutes)
        path = tmp_path / "autoscaling.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        head_cpus = head_resources(autoscaling).get("CPU", 0)
        head_args |= {"num_cpus": head_cpus, "gcs_server_port": port, "autoscaling_config": str(path)}
        # Read by the autoscaler's monitor when it starts, which hands it on to the nodes it launches.
        env = {"RAY_FAKE_CLUSTER": "1", "AUTOSCALER_UPDATE_INTERVAL_S": "1"}
    if redis_address is not None:
        head_args |= {
            "external_addresses": [redis_address, redis_address],
            "num_redis_shards": 1,
            "_system_config": {"external_storage_namespace": f"ysh-{tmp_path.name}"},
        }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        cluster = Cluster(initialize_head=True, head_node_args=head_args)
    session = Path(cluster.head_node.get_session_dir_path()).name
    try:
        for cpus in worker_cpus:
            cluster.add_node(num_cpus=cpus)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        cluster.shutdown()
        end_processes_of(session)


def end_processes_of(session: str) -> None:
    """Ends what outlives `Cluster.shutdown`: the nodes the autoscaler launched (their raylets name the
    session's folder) and whatever they started."""
    raylets = [p for p in psutil.process_iter(["cmdline"]) if session in " ".join(p.info["cmdline"] or ())]
    processes = [child for p in raylets for child in p.children(recursive=True)] + raylets
    for process in processes:
        with suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=10)
    for process in alive:
        with suppress(psutil.NoSuchProcess):
            process.kill()


def alive_nodes(cluster: Cluster) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = cluster.global_state.node_table()
    return [n for n in nodes if n["Alive"]]


def gpu_nodes(cluster: Cluster) -> list[str]:
    return [n["NodeID"] for n in alive_nodes(cluster) if n["Resources"].get("GPU")]


def run_job(
    address: str, job: list[str], data_dir: Path, database_url: str | None
) -> subprocess.CompletedProcess[str]:
    """`python -m <job>` as `ray job submit` runs it against the cluster at `address`."""
    env = {**os.environ, "RAY_ADDRESS": address, "DATA_DIR": str(data_dir), "RAY_AUTH_MODE": "disabled"}
    for name in ("DATABASE_URL", "QDRANT_URL"):
        env.pop(name, None)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", *job],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
