"""The embedded Postgres does not outlive what started it: a job run from the command line on the embedded
default stops the server it started and says so, leaves one it found running, and `make clean` refuses
to delete the data under a running server. Real pgserver, real job, real make."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.embedded import import_pgserver, postgres_pid, stop_postgres
from common.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow


def job_env(data_dir: Path) -> dict[str, str]:
    """The environment of a user's shell: no database, Ray or stack of the test session."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("RAY_", "PYTEST"))}
    env.pop("DATABASE_URL", None)
    env.update(DATA_DIR=str(data_dir), RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0")
    return env


def run_tariffs_job(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ray_jobs.tariffs"],
        cwd=PROJECT_ROOT,
        env=job_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def running_postgres(tmp_path: Path) -> Iterator[Path]:
    """A Postgres on `<tmp>/data/postgres` started by the test, as `make run` would have left one."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = import_pgserver().get_server(data_dir / "postgres", cleanup_mode=None)
    server.get_uri()
    yield data_dir
    stop_postgres(data_dir / "postgres")


def test_a_job_from_the_command_line_stops_the_postgres_it_started(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    finished = run_tariffs_job(data_dir)
    assert finished.returncode == 0, finished.stderr
    assert postgres_pid(data_dir / "postgres") is None
    assert f"stopped the embedded Postgres on {data_dir / 'postgres'}" in finished.stderr


def test_a_job_leaves_a_postgres_it_found_running(running_postgres: Path) -> None:
    pid = postgres_pid(running_postgres / "postgres")
    finished = run_tariffs_job(running_postgres)
    assert finished.returncode == 0, finished.stderr
    assert postgres_pid(running_postgres / "postgres") == pid
    assert "stopped the embedded Postgres" not in finished.stderr


def test_make_clean_refuses_under_a_running_postgres(running_postgres: Path, tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    clean = ["make", "-s", "clean", f"DATA={running_postgres}", f"FEEDS={feeds}"]
    refused = subprocess.run(clean, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    assert "is running on" in refused.stderr and "stop make run" in refused.stderr
    assert running_postgres.is_dir() and feeds.is_dir()
    assert stop_postgres(running_postgres / "postgres")
    cleaned = subprocess.run(clean, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert cleaned.returncode == 0, cleaned.stderr
    assert not running_postgres.exists() and not feeds.exists()
