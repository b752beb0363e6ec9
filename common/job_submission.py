"""Submitting job runs: the Ray Job Submission API, and an in-process twin that runs the same entrypoint
as a local subprocess (same interface, for tests of scheduling logic that need no Ray)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from typing import IO, Literal, Protocol, cast

JobState = Literal["pending", "running", "succeeded", "failed", "stopped", "unknown"]
TERMINAL: frozenset[JobState] = frozenset({"succeeded", "failed", "stopped"})
LOG_TAIL_CHARS = 2000
AGENT_WAIT_S = 60.0  # how long a submission waits for a starting node's job agent
STOP_GRACE_S = 10  # after SIGTERM, as Ray's stop_job waits before it kills


class JobBackend(Protocol):
    def submit(self, *, entrypoint: str, submission_id: str, env: dict[str, str]) -> None: ...

    def state(self, submission_id: str) -> JobState: ...

    def failure(self, submission_id: str) -> str:
        """Why a failed run failed: the backend's message and the tail of its logs."""
        ...

    def stop(self, submission_id: str) -> None:
        """Stop a run (past its time limit); its state then turns `stopped`."""
        ...


class RayJobs:
    """Runs through the Ray Job Submission API, so every run shows in the dashboard with its logs.
    `address` is the dashboard URL; None: the dashboard of the cluster this process is connected to,
    found through its GCS (Ray's own lookup without an address picks any Ray on the machine, and fails
    when there are several)."""

    def __init__(self, address: str | None = None) -> None:
        import ray
        from ray.job_submission import JobSubmissionClient

        self._client = JobSubmissionClient(address or ray.get_runtime_context().gcs_address)

    def submit(self, *, entrypoint: str, submission_id: str, env: dict[str, str]) -> None:
        deadline = time.monotonic() + AGENT_WAIT_S
        while True:
            try:
                self._client.submit_job(
                    entrypoint=entrypoint, submission_id=submission_id, runtime_env={"env_vars": env}
                )
                return
            except RuntimeError as error:
                # Seconds after a node starts, its job agent may not be up: Ray answers 500 "No available
                # agent to submit job, please try again later". Anything else, or past the wait, fails.
                if "No available agent" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def state(self, submission_id: str) -> JobState:
        try:
            status = self._client.get_job_status(submission_id)
        except RuntimeError:  # the dashboard forgot it (cluster restarted)
            return "unknown"
        return cast(JobState, status.value.lower())

    def failure(self, submission_id: str) -> str:
        info = self._client.get_job_info(submission_id)
        logs = self._client.get_job_logs(submission_id)
        return f"{info.message or 'failed'}\n{logs[-LOG_TAIL_CHARS:]}".strip()

    def stop(self, submission_id: str) -> None:
        self._client.stop_job(submission_id)


def wait_for_job_agent(timeout_s: float = AGENT_WAIT_S * 3) -> bool:
    """Wait until this node's job agent has registered (Ray connected, on the head node); False past
    `timeout_s`. Until then Ray refuses every submission ("No available agent"), and on a busy laptop the
    agent can take minutes to start: `make run` waits for it before it starts the scheduler."""
    import ray
    from ray._private.ray_constants import KV_NAMESPACE_DASHBOARD
    from ray.dashboard.consts import DASHBOARD_AGENT_ADDR_NODE_ID_PREFIX
    from ray.experimental.internal_kv import _internal_kv_get

    key = f"{DASHBOARD_AGENT_ADDR_NODE_ID_PREFIX}{ray.get_runtime_context().get_node_id()}"
    deadline = time.monotonic() + timeout_s
    while not _internal_kv_get(key, namespace=KV_NAMESPACE_DASHBOARD):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


class LocalProcessJobs:
    """In-process twin of `RayJobs`: each entrypoint runs in a shell subprocess of this process."""

    def __init__(self) -> None:
        self._runs: dict[str, subprocess.Popen[str]] = {}
        self._logs: dict[str, IO[str]] = {}
        self._stopped: set[str] = set()
        self._lock = threading.Lock()

    def submit(self, *, entrypoint: str, submission_id: str, env: dict[str, str]) -> None:
        with self._lock:
            if submission_id in self._runs:
                raise ValueError(f"submission {submission_id} already exists")
            # Closed with this object; a file, not a pipe, so a chatty job never blocks on its output.
            log = self._logs[submission_id] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
            self._runs[submission_id] = subprocess.Popen(
                entrypoint,
                shell=True,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # stop() ends the shell and what it started, as Ray stops a job
            )

    def state(self, submission_id: str) -> JobState:
        with self._lock:
            process = self._runs.get(submission_id)
        if process is None:
            return "unknown"
        code = process.poll()
        if code is None:
            return "running"
        if submission_id in self._stopped:
            return "stopped"
        return "succeeded" if code == 0 else "failed"

    def failure(self, submission_id: str) -> str:
        process, log = self._runs[submission_id], self._logs[submission_id]
        process.wait()
        log.seek(0)
        return f"exit code {process.returncode}\n{log.read()[-LOG_TAIL_CHARS:]}".strip()

    def stop(self, submission_id: str) -> None:
        with self._lock:
            process = self._runs[submission_id]
            self._stopped.add(submission_id)
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
