"""GPU nodes from zero, simulated: cluster.yaml's node types under Ray's autoscaler with its fake multi-node
provider (tests/simulated_cluster.py), an idle timeout of seconds instead of minutes. The embedding job on
its GPU profile, and a Serve replica asking for a GPU, each make the autoscaler add a GPU node; when the job
ends or the deployment scales to zero, the node goes. The head offers no CPU and runs no job task or
replica. The models run on the CPU: the simulated GPU is a resource, not a device."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from ray.cluster_utils import Cluster

from common import postgres
from common.settings import PROJECT_ROOT, Settings
from samples.feeds import write_sample
from serve_app.config import DEFAULT_SERVE_CONFIG
from tests.conftest import free_port, new_database, wait_for
from tests.simulated_cluster import (
    CLUSTER_YAML,
    alive_nodes,
    gpu_nodes,
    run_job,
    simulated_cluster,
)

pytestmark = pytest.mark.slow

IDLE_TIMEOUT_MINUTES = 0.1  # cluster.yaml waits 10 minutes; the autoscaler is the same either way


@dataclass(frozen=True)
class Simulation:
    cluster: Cluster
    dsn: str  # the catalog's database, which every node reaches
    data_dir: Path  # the Edge index's folder, served by its owner actor on the head

    @property
    def head(self) -> str:
        return str(self.cluster.head_node.node_id)

    @property
    def dashboard(self) -> str:
        return f"http://{self.cluster.head_node.webui_url}"

    def actors(self) -> list[dict[str, Any]]:
        """Every actor the cluster has had, live or dead: its class and the node it ran on."""
        table: dict[str, dict[str, Any]] = self.cluster.global_state.actor_table(None)
        return [
            {"class": a["ActorClassName"], "node": a["Address"]["NodeID"], "state": a["State"]}
            for a in table.values()
        ]


@pytest.fixture(scope="module")
def simulation(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulation]:
    """cluster.yaml simulated, with the sample catalog loaded by the ETL (on the always-on CPU worker)."""
    tmp = tmp_path_factory.mktemp("autoscaling")
    with simulated_cluster(
        tmp, autoscaling=CLUSTER_YAML, idle_timeout_minutes=IDLE_TIMEOUT_MINUTES
    ) as cluster:
        minimum = sum(t.get("min_workers", 0) for t in CLUSTER_YAML["available_node_types"].values())
        wait_for(lambda: len(alive_nodes(cluster)) == 1 + minimum, 60, "cluster.yaml's always-on workers up")
        simulation = Simulation(cluster, new_database(settings), tmp / "data")
        write_sample(tmp / "feeds", products=200)
        etl = run_job(
            cluster.address,
            ["ray_jobs.catalog_etl", "--source", str(tmp / "feeds")],
            simulation.data_dir,
            simulation.dsn,
        )
        assert etl.returncode == 0, etl.stderr[-2000:]
        # Ray Data asks the autoscaler for 16 CPUs for the ETL; here the CPU workers are capped at one
        # node of 8, so the autoscaler may lend a GPU node's CPUs (cluster.yaml allows 6 CPU workers,
        # which it fills first). That node goes idle with the ETL.
        wait_for(lambda: not gpu_nodes(cluster), 90, "no GPU node left from the ETL")
        yield simulation


class GpuNodesSeen:
    """The GPU nodes alive at any moment while a block runs (polled twice a second)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.seen: set[str] = set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._done.wait(0.5):
            self.seen.update(gpu_nodes(self.cluster))

    def __enter__(self) -> GpuNodesSeen:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


@dataclass(frozen=True)
class EmbeddingRun:
    job: subprocess.CompletedProcess[str]
    gpu_nodes_before: list[str]
    gpu_nodes_seen: set[str]  # while the job ran


@pytest.fixture(scope="module")
def gpu_embedding(simulation: Simulation, tmp_path_factory: pytest.TempPathFactory) -> EmbeddingRun:
    """The embedding job on its GPU profile (ray_jobs/configs/embed-gpu.yaml), the device forced to the CPU:
    the simulated GPU is a resource only."""
    cluster = simulation.cluster
    before = gpu_nodes(cluster)
    profile = yaml.safe_load((PROJECT_ROOT / "ray_jobs" / "configs" / "embed-gpu.yaml").read_text())
    profile["embedder"]["device"] = "cpu"
    config = tmp_path_factory.mktemp("embed") / "embed-gpu.yaml"
    config.write_text(yaml.safe_dump(profile), encoding="utf-8")
    with GpuNodesSeen(cluster) as seen:
        job = ["ray_jobs.embed_catalog", "--config", str(config)]
        embed = run_job(cluster.address, job, simulation.data_dir, simulation.dsn)
    return EmbeddingRun(embed, before, seen.seen)


def test_the_gpu_embedding_job_brings_a_gpu_node_up_and_lets_it_go(
    simulation: Simulation, gpu_embedding: EmbeddingRun
) -> None:
    assert not gpu_embedding.gpu_nodes_before  # GPU workers start at zero
    assert gpu_embedding.job.returncode == 0, gpu_embedding.job.stderr[-3000:]
    with postgres.connect(simulation.dsn) as conn:
        [row] = conn.execute("SELECT count(*) AS products FROM products").fetchall()
    assert f"embedded: {row['products']}," in gpu_embedding.job.stderr
    assert gpu_embedding.gpu_nodes_seen, "no GPU node was added for the embedding actors"
    embedders = [a for a in simulation.actors() if "EmbedBatch" in a["class"]]
    assert embedders and {a["node"] for a in embedders} <= gpu_embedding.gpu_nodes_seen  # on GPU nodes only
    wait_for(lambda: not gpu_nodes(simulation.cluster), 90, "the idle GPU node removed after the job")


def serve_config(simulation: Simulation, port: int, *, embedder_min_replicas: int) -> dict[str, Any]:
    """gpu.yaml's search application as `serve deploy` takes it: the query embedder's replica asks for a
    GPU on an L4 node; the models on the CPU, no vLLM app (nothing here runs it)."""
    shipped = yaml.safe_load((DEFAULT_SERVE_CONFIG.parent / "gpu.yaml").read_text(encoding="utf-8"))
    [app] = copy.deepcopy([a for a in shipped["applications"] if a["name"] == "helio-search"])
    args = app["args"]
    args["embedder"]["device"] = "cpu"
    args["chat"]["engines"] = []
    args["query_embedder"]["autoscaling_config"] |= {
        "min_replicas": embedder_min_replicas,
        "max_replicas": 1,
        "downscale_delay_s": 2,
    }
    app["runtime_env"]["env_vars"] |= {"DATABASE_URL": simulation.dsn, "DATA_DIR": str(simulation.data_dir)}
    return {
        "proxy_location": shipped["proxy_location"],
        "http_options": {"host": "127.0.0.1", "port": port},
        "applications": [app],
    }


def serve_deploy(simulation: Simulation, config: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(config), encoding="utf-8")
    deploy = subprocess.run(
        [str(Path(sys.executable).parent / "serve"), "deploy", str(path), "--address", simulation.dashboard],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert deploy.returncode == 0, deploy.stderr[-2000:]


def test_a_gpu_replica_brings_a_gpu_node_up_and_scaling_it_to_zero_lets_the_node_go(
    simulation: Simulation, gpu_embedding: EmbeddingRun, tmp_path: Path
) -> None:
    """gpu.yaml's search app on the catalog the embedding job indexed."""
    assert gpu_embedding.job.returncode == 0
    cluster = simulation.cluster
    wait_for(lambda: not gpu_nodes(cluster), 90, "no GPU node left from an earlier test")
    port = free_port()
    serve_deploy(simulation, serve_config(simulation, port, embedder_min_replicas=1), tmp_path / "serve.json")
    wait_for(lambda: bool(gpu_nodes(cluster)), 120, "a GPU node added for the query embedder's replica")
    [gpu_node] = gpu_nodes(cluster)

    def answers() -> bool:
        try:
            response = httpx.get(
                f"http://127.0.0.1:{port}/store/helio/search", params={"q": "inversor"}, timeout=10
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and bool(response.json()["results"])

    wait_for(answers, 240, "search answered through the replicas on the worker nodes")
    replicas = [
        a for a in simulation.actors() if a["class"].startswith("ServeReplica") and a["state"] == "ALIVE"
    ]
    embedder = [a["node"] for a in replicas if a["class"].endswith("QueryEmbedder")]
    assert embedder == [gpu_node]
    assert replicas and all(a["node"] != simulation.head for a in replicas)  # the head runs no replica

    serve_deploy(simulation, serve_config(simulation, port, embedder_min_replicas=0), tmp_path / "serve.json")
    wait_for(lambda: not gpu_nodes(cluster), 120, "the GPU node removed once the embedder scaled to zero")
    alive = [a for a in simulation.actors() if a["class"].endswith("QueryEmbedder") and a["state"] == "ALIVE"]
    assert not alive
