"""A tiny job for the scheduler tests, run as a real subprocess or Ray job: it records its run in
job_runs like the platform's jobs do (with the submission id it was given), can take a while, and can
fail its first attempts.

    python -m tests.ray_jobs.scheduled_job [--sleep S] [--fail-first N --attempts-file F]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from common import postgres
from common.embedded import postgres_dsn
from common.settings import get_settings


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
    time.sleep(args.sleep)
    with postgres.connect(postgres_dsn(settings)) as conn:
        postgres.migrate(conn)
        run_id = postgres.start_run(conn, job="scheduled_job", submission_id=settings.job_submission_id)
        if attempt <= args.fail_first:
            postgres.finish_run(conn, run_id=run_id, status="failed", counts={}, error="asked to fail")
            print(f"attempt {attempt} fails as asked", file=sys.stderr)
            return 1
        rows = postgres.RowCounts(read=10, accepted=7, written=7, rejected=3)
        postgres.finish_run(conn, run_id=run_id, status="succeeded", counts={"attempt": attempt}, rows=rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
