"""The vector-index owner actor killed while the search endpoint is under load: Ray restarts it, it
reloads its Edge shards from disk, searches in flight wait for it (Ray replays their calls) instead of
failing, and every query gets exactly the results it got before.

`tests/common/test_vector_owner.py` proves the reload through the actor alone; this is the same fault
seen by the Serve app's users."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
import ray

from common.vectors.owner import RemoteVectorStore, vector_index
from kernel.schemas import CATALOG_COLLECTION
from tests.conftest import wait_for
from tests.faults.conftest import QUERIES, FaultsApi, SteadyLoad, figures, search_results

pytestmark = pytest.mark.slow

STEADY_S = 5.0  # load before the kill, and again after the restarted owner answers


def owner_pid(handle: Any) -> int:
    """The owner's worker process, asked inside the actor: a restart gives a new one (and waits for it)."""
    pid: int = ray.get(handle.__ray_call__.remote(lambda actor: os.getpid()))
    return pid


def test_killed_index_owner_reloads_and_serves_the_same_results(faults_api: FaultsApi) -> None:
    owner = vector_index(faults_api.settings)
    points = RemoteVectorStore(owner).count(CATALOG_COLLECTION)
    expected = {query: search_results(faults_api, query) for query in QUERIES}
    first_pid = owner_pid(owner)

    with SteadyLoad(faults_api.base_url) as load:
        time.sleep(STEADY_S)
        killed_at = time.monotonic()
        ray.kill(owner, no_restart=False)  # returns before the actor is gone: wait for its successor
        wait_for(lambda: owner_pid(owner) != first_pid, 120, "the restarted owner")
        served_at = time.monotonic()
        time.sleep(STEADY_S)
    during = figures(load.between(killed_at, served_at))
    total = figures(load.outcomes)
    print(f"\nindex owner killed; restarted and answering {served_at - killed_at:.1f} s later")
    print(f"  during {during}\n  total  {total}")
    print("\n".join(sorted(set(load.failures))))

    assert RemoteVectorStore(owner).count(CATALOG_COLLECTION) == points
    assert {query: search_results(faults_api, query) for query in QUERIES} == expected
    assert total.errors == 0, load.failures  # the restart fits in the router's index timeout
