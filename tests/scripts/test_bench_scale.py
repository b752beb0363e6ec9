"""make bench-scale's measuring parts: whose memory a process counts as, and what an index takes on disk."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psutil

from scripts.bench_scale import PeakMemory, disk_mb


def test_a_jobs_processes_are_told_apart_by_role() -> None:
    # A driver whose children are named as Ray names its own: a worker ("ray::…") and a service.
    tree = "(exec -a ray::IDLE sleep 30) & (exec -a raylet sleep 30) & wait"
    driver = subprocess.Popen(["bash", "-c", tree])
    try:
        deadline = time.monotonic() + 10
        while len(psutil.Process(driver.pid).children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        peaks = PeakMemory(driver.pid, postgres_pid=None)
        peaks.sample()
    finally:
        for child in psutil.Process(driver.pid).children(recursive=True):
            child.kill()
        driver.kill()
        driver.wait()
    report = peaks.report()
    assert set(report) == {"driver", "ray workers", "ray services"}
    for role in report.values():
        assert 0 < role["largest_process_mb"] <= role["all_processes_mb"]


def test_a_process_gone_between_samples_is_skipped() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    peaks = PeakMemory(gone.pid, postgres_pid=None)
    peaks.sample()
    assert peaks.report() == {}


def test_the_index_size_counts_blocks_apart_from_the_sparse_preallocation(tmp_path: Path) -> None:
    (tmp_path / "segment").write_bytes(b"x" * 1024 * 1024)
    with (tmp_path / "wal").open("wb") as wal:  # as Qdrant preallocates its WAL: a hole, no blocks
        wal.truncate(32 * 1024 * 1024)
    size = disk_mb(tmp_path)
    assert size["apparent_mb"] == 33.0
    assert 1.0 <= size["on_disk_mb"] < 2.0
