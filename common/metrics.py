"""The platform's own metrics, exported by Ray's Prometheus endpoint next to Ray's (each node's
metrics export port; the Grafana dashboard in `deploy/grafana/` reads them).

Thin named functions over `ray.util.metrics` objects created on first use in the calling process,
so importing this module never needs Ray, and a process without Ray (a unit test, a CLI run
without a cluster) records nothing rather than failing. Tag values are kept bounded: route
templates, never raw paths; fallback reasons as a few kinds, never free text.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import Any, Literal

FALLBACK_REASONS = frozenset({"unavailable", "timeout", "error"})
"""What a fallback is counted as; anything else is counted as `other`."""

_LATENCY_BOUNDARIES_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_BATCH_BOUNDARIES_S = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


@dataclass(frozen=True)
class MetricSpec:
    kind: Literal["counter", "gauge", "histogram"]
    description: str
    tag_keys: tuple[str, ...]
    boundaries: tuple[float, ...] = ()


METRICS: dict[str, MetricSpec] = {
    "helio_request_latency_s": MetricSpec(
        "histogram",
        "HTTP request latency in seconds, per route template, method and status.",
        ("endpoint", "method", "status"),
        _LATENCY_BOUNDARIES_S,
    ),
    "helio_fallbacks": MetricSpec(
        "counter", "Engines skipped in a fallback chain, by engine and reason kind.", ("engine", "reason")
    ),
    "helio_embedded_items": MetricSpec("counter", "Texts embedded, per model.", ("model",)),
    "helio_embedding_batch_s": MetricSpec(
        "histogram", "Seconds spent embedding one batch, per model.", ("model",), _BATCH_BOUNDARIES_S
    ),
    "helio_job_rows": MetricSpec(
        "counter", "Rows a job run read, accepted, wrote and rejected, per job.", ("job", "outcome")
    ),
    "helio_kafka_consumer_lag": MetricSpec(
        "gauge",
        "Messages behind the partition's end offset, per topic and partition.",
        ("topic", "partition"),
    ),
    "helio_freshness_lag_s": MetricSpec(
        "gauge",
        "Seconds the oldest catalog change not yet in the collection has waited; 0 when caught up.",
        ("collection",),
    ),
    "helio_scheduled_runs": MetricSpec(
        "counter",
        "Scheduled runs ended, per job and status (succeeded, failed, timed_out, skipped).",
        ("job", "status"),
    ),
    "helio_job_retries_exhausted": MetricSpec(
        "counter", "Runs that failed or timed out with no retry left, per job.", ("job",)
    ),
    "helio_job_last_success_s": MetricSpec(
        "gauge", "Unix time at which the job's last successful run ended.", ("job",)
    ),
    "helio_job_expected_interval_s": MetricSpec(
        "gauge",
        "Seconds within which the job is expected to succeed again (from its schedule).",
        ("job",),
    ),
}

_created: dict[str, Any] = {}
_lock = threading.Lock()


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    """`endpoint` is the route template (`/store/helio/products/{product_id}/compatible`)."""
    _record(
        "helio_request_latency_s",
        seconds,
        {"endpoint": endpoint, "method": method.upper(), "status": str(status)},
    )


def count_fallback(engine: str, reason: str) -> None:
    kind = reason if reason in FALLBACK_REASONS else "other"
    _record("helio_fallbacks", 1, {"engine": engine, "reason": kind})


def observe_embedding(model: str, items: int, seconds: float) -> None:
    _record("helio_embedded_items", items, {"model": model})
    _record("helio_embedding_batch_s", seconds, {"model": model})


def count_job_rows(job: str, read: int, accepted: int, written: int, rejected: int) -> None:
    outcomes = (("read", read), ("accepted", accepted), ("written", written), ("rejected", rejected))
    for outcome, rows in outcomes:
        _record("helio_job_rows", rows, {"job": job, "outcome": outcome})


def set_kafka_lag(topic: str, partition: int, lag: int) -> None:
    _record("helio_kafka_consumer_lag", lag, {"topic": topic, "partition": str(partition)})


def set_freshness_lag(collection: str, seconds: float) -> None:
    _record("helio_freshness_lag_s", seconds, {"collection": collection})


def count_scheduled_run(job: str, status: str, *, retries_left: bool) -> None:
    """A scheduled run ended; one that failed or timed out with `retries_left` False also counts as
    exhausted (the alert on a job failed for good reads that)."""
    _record("helio_scheduled_runs", 1, {"job": job, "status": status})
    if status in ("failed", "timed_out") and not retries_left:
        _record("helio_job_retries_exhausted", 1, {"job": job})


def set_job_schedule(job: str, *, last_success_s: float | None, expected_interval_s: float) -> None:
    if last_success_s is not None:
        _record("helio_job_last_success_s", last_success_s, {"job": job})
    _record("helio_job_expected_interval_s", expected_interval_s, {"job": job})


def _record(name: str, value: float, tags: dict[str, str]) -> None:
    metric = _metric(name)
    if metric is None:
        return
    spec = METRICS[name]
    if spec.kind == "counter":
        if value > 0:  # Ray's counters refuse 0
            metric.inc(value, tags=tags)
    elif spec.kind == "gauge":
        metric.set(value, tags=tags)
    else:
        metric.observe(value, tags=tags)


def _metric(name: str) -> Any | None:
    """The process's metric object, or None when this process is not connected to Ray (checking
    `sys.modules` first: a process that never imported Ray is not connected, and need not pay for
    the import)."""
    if "ray" not in sys.modules:
        return None
    import ray
    from ray.util import metrics

    if not ray.is_initialized():
        return None
    with _lock:
        if name not in _created:
            spec = METRICS[name]
            if spec.kind == "counter":
                _created[name] = metrics.Counter(name, spec.description, spec.tag_keys)
            elif spec.kind == "gauge":
                _created[name] = metrics.Gauge(name, spec.description, spec.tag_keys)
            else:
                _created[name] = metrics.Histogram(
                    name, spec.description, list(spec.boundaries), spec.tag_keys
                )
        return _created[name]
