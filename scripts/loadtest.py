"""Load test of a running API: locust, headless and bounded in time, against 127.0.0.1 only.

    python -m scripts.loadtest --host http://127.0.0.1:8000 --duration 60s --users 20

Starts nothing itself: bring the API up first (`make run`). Users ramp up over the first third of the
run, then hold, each one searching, asking for recommendations and asking Hélio (scripts/locustfile.py).
Prints throughput, p50/p95/p99 and failures per endpoint and overall, then the same as one JSON line.
Exits 1 when a request failed, 2 when locust produced no figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# The request names of locustfile.py's tasks: a short run may never draw the rarest one, and the report
# still lists it, with no requests, rather than leave it out.
ENDPOINTS = ("search", "recommend", "ask")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_DURATION = re.compile(r"(\d+)([sm]?)")


def seconds(duration: str) -> int:
    """`60s`, `2m` or `90` → seconds."""
    match = _DURATION.fullmatch(duration.strip())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"not a duration: {duration!r} (e.g. 60s, 2m)")
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


def loopback_url(url: str) -> str:
    if urlparse(url).hostname not in LOOPBACK:
        raise argparse.ArgumentTypeError(f"{url}: the load test only targets 127.0.0.1")
    return url.rstrip("/")


def _figures(row: dict[str, str]) -> dict[str, float | None]:
    requests = int(row["Request Count"])
    if not requests:
        return dict.fromkeys(["p50_ms", "p95_ms", "p99_ms"], None) | {
            "requests": 0,
            "failures": 0,
            "throughput_rps": 0.0,
            "error_rate": 0.0,
        }
    return {
        "requests": requests,
        "failures": int(row["Failure Count"]),
        "throughput_rps": round(float(row["Requests/s"]), 2),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "p99_ms": float(row["99%"]),
        "error_rate": round(int(row["Failure Count"]) / requests, 4),
    }


def run_loadtest(host: str, duration_s: int, users: int, spawn_rate: float | None = None) -> dict[str, Any]:
    """Run locust headless for `duration_s` and return the figures per endpoint and in total."""
    rate = spawn_rate or max(users / max(duration_s / 3, 1), 0.1)
    with tempfile.TemporaryDirectory(prefix="loadtest-") as folder:
        prefix = Path(folder) / "run"
        command = [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
            "--host", host, "--users", str(users), "--spawn-rate", f"{rate:g}",
            "--run-time", f"{duration_s}s", "--stop-timeout", "10", "--csv", str(prefix),
            "--loglevel", "WARNING",
        ]  # fmt: skip
        # Locust exits 1 when a request failed; the figures say so, so its status is not an error here.
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 60, check=False)
        stats = prefix.with_name("run_stats.csv")
        if not stats.exists():
            raise RuntimeError(f"locust produced no figures (exit {done.returncode}): {done.stderr[-2000:]}")
        with stats.open(newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
    by_name = {row["Name"]: row for row in rows}
    total = _figures(by_name.pop("Aggregated"))
    endpoints = {name: _figures(by_name.get(name, {"Request Count": "0"})) for name in [*ENDPOINTS, *by_name]}
    return {"host": host, "duration_s": duration_s, "users": users, "endpoints": endpoints, "total": total}


def render(report: dict[str, Any]) -> str:
    lines = [
        f"{'endpoint':<12}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'errors':>8}"
    ]
    for name, f in [*report["endpoints"].items(), ("total", report["total"])]:
        percentiles = "".join(
            f"{'-' if f[key] is None else format(f[key], '.0f'):>8}" for key in ("p50_ms", "p95_ms", "p99_ms")
        )
        lines.append(
            f"{name:<12}{f['requests']:>9}{f['throughput_rps']:>8.1f}{percentiles}{f['error_rate']:>8.1%}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.loadtest", description=__doc__)
    parser.add_argument(
        "--host", type=loopback_url, default="http://127.0.0.1:8000", help="the API's base URL"
    )
    parser.add_argument("--duration", type=seconds, default=seconds("60s"), help="how long, e.g. 60s or 2m")
    parser.add_argument("--users", type=int, default=20, help="simulated customers at the top of the ramp")
    parser.add_argument("--spawn-rate", type=float, default=None, help="users started per second")
    args = parser.parse_args(argv)
    try:
        report = run_loadtest(args.host, args.duration, args.users, args.spawn_rate)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 2
    print(render(report))
    print(json.dumps(report))
    return 1 if report["total"]["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
