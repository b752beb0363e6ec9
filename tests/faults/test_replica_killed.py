"""A HelioRouter replica killed under a steady load of searches: only the requests it held when it died
fail (Serve does not replay them; the client's one retry of an idempotent search does), none is lost,
Serve replaces the replica, and once it has every request succeeds at the first attempt."""

from __future__ import annotations

import time

import pytest
import ray
from ray import serve
from ray.util.state import list_actors

from tests.conftest import wait_for
from tests.faults.conftest import APP_NAME, ROUTER, ROUTER_REPLICAS, FaultsApi, SteadyLoad, figures

pytestmark = pytest.mark.slow

SERVE_NAMESPACE = "serve"
STEADY_S = 8.0  # load before the kill, and again after recovery


def router_replicas(api: FaultsApi) -> set[str]:
    """Names of the live router replica actors (Serve names them after the app and the deployment)."""
    actors = list_actors(address=api.dashboard_url, filters=[("state", "=", "ALIVE")], limit=1000)
    return {a.name for a in actors if a.name and APP_NAME in a.name and ROUTER in a.name}


def router_running() -> int:
    deployment = serve.status().applications[APP_NAME].deployments[ROUTER]
    return int(deployment.replica_states.get("RUNNING", 0))


def test_killing_a_router_replica_loses_no_search(faults_api: FaultsApi) -> None:
    wait_for(lambda: len(router_replicas(faults_api)) == ROUTER_REPLICAS, 60, "both router replicas alive")
    with SteadyLoad(faults_api.base_url) as load:
        time.sleep(STEADY_S)
        victim = sorted(router_replicas(faults_api))[0]
        killed_at = time.monotonic()
        ray.kill(ray.get_actor(victim, namespace=SERVE_NAMESPACE), no_restart=False)
        wait_for(
            lambda: victim not in (alive := router_replicas(faults_api)) and len(alive) == ROUTER_REPLICAS,
            120,
            "a replacement replica",
        )
        wait_for(lambda: router_running() == ROUTER_REPLICAS, 60, "both replicas RUNNING")
        recovered_at = time.monotonic()
        time.sleep(STEADY_S)
    before = figures(load.between(0, killed_at))
    during = figures(load.between(killed_at, recovered_at))
    after = figures(load.between(recovered_at, float("inf")))
    total = figures(load.outcomes)
    in_flight = [o for o in load.outcomes if o.sent_at < killed_at < o.done_at]
    failed = [o for o in load.outcomes if o.failed_first]
    print(f"\nrouter replica killed; replaced and RUNNING {recovered_at - killed_at:.1f} s later")
    for name, part in (("before", before), ("during", during), ("after", after), ("total", total)):
        print(f"  {name:<6} {part}")
    statuses = sorted(o.first_status for o in failed)
    print(f"  in flight at the kill: {len(in_flight)}; failed first attempts: {statuses}")
    print("\n".join(sorted(set(load.failures))))

    # Serve stops routing to the dead replica at once; what fails is what it held when it died.
    assert set(failed) <= set(in_flight)
    assert total.lost == 0, total  # each of those succeeded on the client's one retry
    assert after.errors == 0 and after.requests > 0
    assert len(router_replicas(faults_api)) == ROUTER_REPLICAS
