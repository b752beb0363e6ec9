"""`ray job submit` of the catalog ETL against the local Ray, exactly as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from common.settings import PROJECT_ROOT, Settings
from samples.feeds import write_sample

pytestmark = pytest.mark.slow


def test_ray_job_submit_runs_the_catalog_etl(
    ray_session: str, fresh_settings: Settings, tmp_path: Path
) -> None:
    feeds = tmp_path / "feeds"
    write_sample(feeds, seed=11, products=120)
    runtime_env = {"env_vars": {"DATABASE_URL": fresh_settings.database_url, "HF_HUB_OFFLINE": "1"}}
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "ray"),
            "job",
            "submit",
            "--address",
            ray_session,
            "--working-dir",
            ".",
            "--runtime-env-json",
            json.dumps(runtime_env),
            "--",
            sys.executable,  # the job's driver runs in this environment, whatever PATH says
            "-m",
            "ray_jobs.catalog_etl",
            "--source",
            str(feeds),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "RAY_AUTH_MODE": "disabled"},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "succeeded" in completed.stdout
    with psycopg.connect(fresh_settings.database_url or "") as conn:
        runs = conn.execute("SELECT job, status FROM job_runs").fetchall()
        products = conn.execute("SELECT count(*) FROM products").fetchone()
    assert runs == [("catalog_etl", "succeeded")]
    assert products is not None and products[0] > 0
