"""Starts the embedded defaults when no server URL is set: Postgres via pgserver, a local Ray."""

from __future__ import annotations

import logging
import os
from typing import Any

from common.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

RAY_NAMESPACE = "ysh"  # named actors (vector index, scheduler) live here


def postgres_dsn(settings: Settings) -> str:
    """DATABASE_URL when set; otherwise start (or reuse) the pgserver cluster under data_dir."""
    if settings.database_url:
        return settings.database_url
    import pgserver  # imported lazily: production never needs it

    settings.postgres_dir.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None keeps the server up after this process exits, so Ray workers, the API and
    # later jobs share one cluster; pgserver reuses a running server found in the same directory.
    server = pgserver.get_server(settings.postgres_dir, cleanup_mode=None)
    uri: str = server.get_uri()
    return uri


def path_with(first: str, variable: str) -> str:
    """The search path in environment `variable` with `first` at its head, each entry once: a worker's
    own environment already carries what its parent prepended."""
    entries = [first, *os.environ.get(variable, "").split(os.pathsep)]
    return os.pathsep.join(dict.fromkeys(entry for entry in entries if entry))


def worker_env() -> dict[str, str]:
    """Environment every Ray worker needs: this project importable and models never fetched."""
    pythonpath = path_with(str(PROJECT_ROOT), "PYTHONPATH")
    return {"PYTHONPATH": pythonpath, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def init_ray(settings: Settings, **kwargs: Any) -> None:
    """Connect to RAY_ADDRESS, or start a local Ray; no-op when Ray is already up in this process."""
    import ray

    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # local runs: no token file under $HOME
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # Under `ray job submit` the job's runtime env (working_dir, env_vars) already reaches every
    # worker, and Ray refuses to merge a second one into it.
    runtime_env = None if os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR") else {"env_vars": worker_env()}
    if settings.ray_address:
        ray.init(address=settings.ray_address, runtime_env=runtime_env, namespace=RAY_NAMESPACE, **kwargs)
    else:
        ray.init(runtime_env=runtime_env, namespace=RAY_NAMESPACE, **kwargs)
    log.info("ray: %s", ray.get_runtime_context().gcs_address)


def connect_to_cluster(settings: Settings) -> None:
    """Join the running cluster, for command lines that talk to its long-lived actors: RAY_ADDRESS, or
    the local one `make run` started. Never a new one, which would take a detached actor down with this
    process. ConnectionError, saying what to do, when none runs."""
    try:
        init_ray(settings.model_copy(update={"ray_address": settings.ray_address or "auto"}))
    except ConnectionError as error:
        raise ConnectionError(
            f"cannot join a Ray cluster ({error}): start one with `make run`, or set RAY_ADDRESS"
        ) from error


def join_cluster_for_metrics(settings: Settings) -> None:
    """Jobs that need no Ray of their own still join the cluster they were submitted to (RAY_ADDRESS is
    set under `ray job submit`), so their metrics reach its Prometheus endpoint; run by hand, they
    start nothing."""
    if settings.ray_address:
        init_ray(settings)


def long_lived_actor(cls: type, name: str, **options: Any) -> Any:
    """`cls` as the cluster's one named, detached actor (the vector index owner, the scheduler, the
    change-stream consumers): created on first use, found by name afterwards, restarted by Ray if it
    dies, and holding no CPU (they wait on I/O), so it never keeps a job or a replica from a core."""
    import ray

    return ray.remote(cls).options(
        name=name,
        namespace=RAY_NAMESPACE,
        lifetime="detached",
        get_if_exists=True,
        num_cpus=0,
        max_restarts=-1,
        **options,
    )
