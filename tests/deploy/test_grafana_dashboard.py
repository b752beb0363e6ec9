"""The Grafana dashboard queries only metrics `common.metrics` defines, under the names Ray exports them
by (prefix `ray_`, counters `_total`, histograms `_bucket`/`_count`/`_sum`), and shows every one."""

from __future__ import annotations

import json
import re
from typing import Any

from common.metrics import METRICS
from common.settings import PROJECT_ROOT

DASHBOARD: dict[str, Any] = json.loads(
    (PROJECT_ROOT / "deploy" / "grafana" / "helio-dashboard.json").read_text(encoding="utf-8")
)
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}


def exported_names() -> dict[str, str]:
    """Prometheus series name → the metric of `common.metrics` it comes from."""
    return {f"ray_{name}{suffix}": name for name, spec in METRICS.items() for suffix in SUFFIXES[spec.kind]}


def expressions() -> list[str]:
    exprs = [t["expr"] for panel in DASHBOARD["panels"] for t in panel.get("targets", [])]
    exprs += [v["definition"] for v in DASHBOARD["templating"]["list"] if "definition" in v]
    return exprs


def queried_names() -> set[str]:
    return {name for expr in expressions() for name in re.findall(r"\b(?:ray_)?helio_\w+", expr)}


def test_every_queried_metric_is_defined() -> None:
    assert queried_names() and queried_names() <= set(exported_names())


def test_every_defined_metric_has_a_panel() -> None:
    shown = {exported_names()[name] for name in queried_names()}
    assert shown == set(METRICS)


def test_latency_quantiles_from_the_histogram() -> None:
    latency = [e for e in expressions() if "ray_helio_request_latency_s_bucket" in e]
    quantiles = {q for e in latency for q in re.findall(r"histogram_quantile\(([\d.]+)", e)}
    assert quantiles == {"0.5", "0.95", "0.99"}


def test_the_datasource_is_a_variable() -> None:
    (datasource,) = [v for v in DASHBOARD["templating"]["list"] if v["type"] == "datasource"]
    uids = {t["datasource"]["uid"] for panel in DASHBOARD["panels"] for t in panel.get("targets", [])}
    assert datasource["query"] == "prometheus" and uids == {"${" + datasource["name"] + "}"}
