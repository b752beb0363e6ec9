"""A tiny job for the scheduler tests, run as a real subprocess or Ray job: it records its run through the
job runner like the platform's jobs do (with the submission id and time limit it was given), can take a
while, and can fail its first attempts.

    python -m tests.ray_jobs.scheduled_job [--sleep S] [--fail-first N --attempts-file F]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from common import postgres
from common.resources import Resources
from common.settings import get_settings
from ray_jobs.runner import job_run


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sleep", type=float, default=0)
    parser.add_argument("--fail-first", type=int, default=0, help="fail this many attempts, then succeed")
    parser.add_argument("--attempts-file", type=Path)
    args = parser.parse_args()
    attempt = 1
    if args.attempts_file is not None:
        attempt = int(args.attempts_file.read_text() or 0) + 1 if args.attempts_file.exists() else 1
        args.attempts_file.write_text(str(attempt))
    settings = get_settings()
    with job_run(Resources(settings), "scheduled_job") as run:
        time.sleep(args.sleep)
        if attempt <= args.fail_first:
            run.report({}, status="failed", error="asked to fail")
            print(f"attempt {attempt} fails as asked", file=sys.stderr)
            return 1
        run.report({"attempt": attempt}, postgres.RowCounts(read=10, accepted=7, written=7, rejected=3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
