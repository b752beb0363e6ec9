"""Starts the embedded defaults when no server URL is set: Postgres via pgserver, a local Ray.

The local stack (`make run`) publishes where its services are, so every way of running a job against it
reaches the same Postgres, vector index and files: the environment its Ray starts with (every worker,
Serve replica and `ray job submit` run inherits it) names the data dir, the database and the checkout,
and `<data_dir>/stack.json` names its Ray, which a job run from the checkout joins instead of starting
a second one.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import os
import secrets
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from common.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

RAY_NAMESPACE = "ysh"  # named actors (vector index, scheduler) live here


# Embedded Postgres servers this process started (not a Ray worker's: those serve a driver's run).
_started_postgres: set[Path] = set()


def postgres_dsn(settings: Settings) -> str:
    """DATABASE_URL when set; otherwise start (or reuse) the pgserver cluster under data_dir. A server
    this process started is stopped when it exits (`make run` on Ctrl-C, a job run from the command
    line), saying so; one it found running is left to whoever started it."""
    if settings.database_url:
        return settings.database_url
    pgserver = import_pgserver()
    settings.postgres_dir.mkdir(parents=True, exist_ok=True)
    starting = postgres_pid(settings.postgres_dir) is None
    # cleanup_mode=None: pgserver's own exit hook would stop the server only when no other process it
    # counted still holds it, and Ray workers it counted die without telling it; we stop it ourselves.
    server = pgserver.get_server(settings.postgres_dir, cleanup_mode=None)
    if starting and "RAY_RAYLET_PID" not in os.environ:  # Ray sets it in its workers only
        if not _started_postgres:
            atexit.register(_stop_started_postgres_at_exit)
        _started_postgres.add(settings.postgres_dir)
    uri: str = server.get_uri()
    return uri


def import_pgserver() -> Any:
    """pgserver, imported lazily (production never needs it) with its runtime folder set and its
    per-process chatter (handles registered, handles released at exit) kept out of the output."""
    ensure_runtime_dir()
    import pgserver

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    return pgserver


def postgres_pid(directory: Path) -> int | None:
    """The postmaster's pid when a Postgres runs on `directory`."""
    try:
        pid = int((directory / "postmaster.pid").read_text(encoding="utf-8").split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):  # no file, a stale one, or no such process
        return None
    return pid


def stop_postgres(directory: Path, timeout_s: float = 30.0) -> bool:
    """Fast shutdown of the Postgres on `directory` (SIGINT to the postmaster: sessions are ended,
    committed data is on disk); False when none ran."""
    pid = postgres_pid(directory)
    if pid is None:
        return False
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout_s
    while postgres_pid(directory) is not None:
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"Postgres on {directory} (pid {pid}) still runs {timeout_s:.0f} s after SIGINT"
            )
        time.sleep(0.1)
    return True


def stop_started_postgres() -> list[Path]:
    """Stops the embedded Postgres servers this process started; the folders of those it stopped."""
    stopped = [directory for directory in sorted(_started_postgres) if stop_postgres(directory)]
    _started_postgres.clear()
    return stopped


def _stop_started_postgres_at_exit() -> None:
    for directory in stop_started_postgres():
        print(f"stopped the embedded Postgres on {directory}, which this run started", file=sys.stderr)


def ensure_runtime_dir() -> None:
    """XDG_RUNTIME_DIR, which pgserver's lock lives under (platformdirs warns in every process when it is
    unset, as in containers and CI), set to platformdirs' own fallback, private to this user."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(tempfile.gettempdir()) / f"runtime-{os.getuid()}"
        path.mkdir(mode=0o700, exist_ok=True)
        path.chmod(0o700)  # platformdirs' own fallback made it 0755, and warns about that too
        os.environ["XDG_RUNTIME_DIR"] = str(path)


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
    """Connect to RAY_ADDRESS, else to the local stack's Ray when one runs on this data dir, else start a
    local Ray (`kwargs` go to `ray.init`); no-op when Ray is already up in this process."""
    import ray

    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # local runs: no token file under $HOME
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ensure_runtime_dir()  # a local Ray's workers inherit it
    # Under `ray job submit` the job's runtime env (working_dir, env_vars) already reaches every
    # worker, and Ray refuses to merge a second one into it.
    runtime_env = None if os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR") else {"env_vars": worker_env()}
    address = settings.ray_address or running_stack_address(settings)
    if address:
        ray.init(address=address, runtime_env=runtime_env, namespace=RAY_NAMESPACE)
        try:
            refuse_embedded_on_cluster(settings)
        except EmbeddedOnCluster:
            ray.shutdown()
            raise
    else:
        ray.init(runtime_env=runtime_env, namespace=RAY_NAMESPACE, **kwargs)
    log.info("ray: %s", ray.get_runtime_context().gcs_address)


class EmbeddedOnCluster(RuntimeError):
    """A Ray of several nodes joined on the embedded defaults."""


def refuse_embedded_on_cluster(settings: Settings) -> None:
    """EmbeddedOnCluster when the Ray this process is connected to has several nodes alive and `settings`
    leave Postgres or the vector index where not every node reaches them (`embedded_on_cluster`)."""
    import ray

    alive = [node for node in ray.nodes() if node["Alive"]]
    hosts = len({node["NodeManagerAddress"] for node in alive})
    refusal = embedded_on_cluster(settings, nodes=len(alive), hosts=hosts)
    if refusal is not None:
        raise EmbeddedOnCluster(refusal)


def embedded_on_cluster(settings: Settings, *, nodes: int, hosts: int) -> str | None:
    """Why a Ray of `nodes` nodes on `hosts` machines must not run on `settings`, or None.

    The embedded Postgres belongs to one data dir: a job whose driver lands elsewhere (another node, or
    the working-dir copy `ray job submit` makes) would start a Postgres of its own, and the cluster would
    hold two catalogs. Qdrant Edge is served by one owner actor pinned to the head, which every node
    reaches through Ray; across several hosts its files would sit on the head's disk alone. A server on a
    Unix socket or the loopback address serves nodes that all run on its machine (a simulated cluster),
    not several hosts."""
    if nodes <= 1:
        return None
    needed = []
    if settings.database_url is None or (hosts > 1 and _this_host_only(_dsn_host(settings.database_url))):
        needed.append("DATABASE_URL (a Postgres server every node reaches)")
    qdrant_host = urlsplit(settings.qdrant_url).hostname if settings.qdrant_url else None
    if hosts > 1 and _this_host_only(qdrant_host):
        needed.append("QDRANT_URL (a Qdrant server every node reaches)")
    if not needed:
        return None
    return (
        f"this Ray cluster has {nodes} nodes on {hosts} host(s), and the embedded Postgres and Qdrant Edge "
        f"keep their files on one node's disk; set {' and '.join(needed)} in the environment of every node "
        "(README, Running on a cluster)"
    )


def _dsn_host(dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    return str(conninfo_to_dict(dsn).get("host") or "")


def _this_host_only(host: str | None) -> bool:
    """A Unix socket (no host, or a directory) or the loopback address."""
    return not host or host.startswith("/") or host in {"localhost", "127.0.0.1", "::1"}


def stored_secret(path: Path) -> str:
    """A secret made once at `path` (mode 600) for the embedded defaults, the same at every start."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def stack_file(settings: Settings) -> Path:
    return settings.data_dir / "stack.json"


def running_stack_address(settings: Settings) -> str | None:
    """The GCS address the local stack on this data dir published, when its Ray still answers there."""
    try:
        address = str(json.loads(stack_file(settings).read_text(encoding="utf-8"))["ray_address"])
        host, _, port = address.rpartition(":")
        with socket.create_connection((host, int(port)), timeout=0.5):
            return address
    except (OSError, ValueError, KeyError):  # no file, a bad one, or nothing listening: no stack
        return None


def stack_env(settings: Settings) -> dict[str, str]:
    """What the local stack publishes to every process of its Ray: absolute paths and the database."""
    return {
        "BASE_DIR": str(settings.base_dir),
        "DATA_DIR": str(settings.data_dir.resolve()),
        "DATABASE_URL": postgres_dsn(settings),
    }


def local_ray_cpus(reserved_cpus: float) -> int:
    """Logical CPUs of a local Ray that serves and runs jobs: the machine's cores for the jobs, plus what
    the Serve replicas reserve (README, "One Ray for jobs and the API")."""
    return (os.cpu_count() or 1) + math.ceil(reserved_cpus)


def start_stack_ray(settings: Settings, *, reserved_cpus: float) -> bool:
    """The local stack's Ray: its environment carries `stack_env`, and its logical CPUs are this machine's
    cores for jobs plus `reserved_cpus` for the Serve replicas, which reserve CPUs while they mostly
    wait for requests; so a scheduled Ray Data job always finds the cores a lone run would. Joins the
    stack's Ray instead when it already runs (a second `make run`), and publishes its address. True when
    it started a Ray of its own (which `ray.shutdown()` in this process stops)."""
    import ray

    os.environ.update(stack_env(settings))  # inherited by the raylet, hence by every worker and job
    # Serve's controller, proxy and access logs go to their files (/tmp/ray/session_latest/logs/serve/)
    # rather than between `make run`'s step lines; the platform's own logs still reach the console.
    os.environ.setdefault("RAY_SERVE_LOG_TO_STDERR", "0")
    joining = settings.ray_address or running_stack_address(settings)
    init_ray(settings, num_cpus=local_ray_cpus(reserved_cpus))
    published = {"ray_address": ray.get_runtime_context().gcs_address}
    stack_file(settings).parent.mkdir(parents=True, exist_ok=True)
    stack_file(settings).write_text(json.dumps(published), encoding="utf-8")
    return not joining


def connect_to_cluster(settings: Settings) -> None:
    """Join the running cluster, for command lines that talk to its long-lived actors: RAY_ADDRESS, or
    the local one `make run` started. Never a new one, which would take a detached actor down with this
    process. ConnectionError, saying what to do, when none runs."""
    try:
        address = settings.ray_address or running_stack_address(settings) or "auto"
        init_ray(settings.model_copy(update={"ray_address": address}))
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


def named_actor(name: str) -> Any | None:
    """The cluster's long-lived actor of that name, or None (Ray must be connected)."""
    import ray

    try:
        return ray.get_actor(name, namespace=RAY_NAMESPACE)
    except ValueError:
        return None


def stop_named_actor(name: str, timeout_s: float = 30.0) -> bool:
    """Stops a long-lived actor for good, after its own `stop(timeout_s)` lets its loop finish; False if
    none ran."""
    import ray

    handle = named_actor(name)
    if handle is None:
        return False
    ray.get(handle.stop.remote(timeout_s), timeout=timeout_s + 5)
    ray.kill(handle, no_restart=True)
    deadline = time.monotonic() + timeout_s
    while named_actor(name) is not None:  # the name is released asynchronously
        if time.monotonic() > deadline:
            raise TimeoutError(f"actor {name!r} still registered {timeout_s:.0f} s after ray.kill")
        time.sleep(0.1)
    return True
