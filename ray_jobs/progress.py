"""Visible progress for jobs: one line per step with its duration, and a summary table."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager


def quiet_ray_data() -> None:
    """Our step lines and bar say what runs; Ray Data's own progress output would interleave with them."""
    import ray.data

    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    # It warns, once per process, that the bars are off: they are, on purpose.
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def step(name: str) -> Iterator[None]:
    say(f"▶ {name} …")
    started = time.perf_counter()
    yield
    say(f"  ✓ {name} ({time.perf_counter() - started:.1f} s)")


def table(rows: Mapping[str, Mapping[str, int]], columns: Sequence[str]) -> str:
    """Counts per key (e.g. per distributor) as an aligned text table with a total row."""
    width = max([len("total"), *(len(key) for key in rows)])
    lines = [" ".join([f"{'':<{width}}", *(f"{c:>10}" for c in columns)])]
    totals = dict.fromkeys(columns, 0)
    for key in sorted(rows):
        values = [rows[key].get(c, 0) for c in columns]
        for column, value in zip(columns, values, strict=True):
            totals[column] += value
        lines.append(" ".join([f"{key:<{width}}", *(f"{v:>10}" for v in values)]))
    lines.append(" ".join([f"{'total':<{width}}", *(f"{totals[c]:>10}" for c in columns)]))
    return "\n".join(lines)
