"""The Prometheus alerting rules in deploy/prometheus: promtool accepts them and their unit tests
(alerts-test.yaml) pass, where promtool is installed; and, without promtool, every expression reads
only metrics `common.metrics` defines under the names Ray exports them by, every alert carries a
severity, a summary and a description whose templated labels the expression keeps, each of the
platform's alert kinds exists, and each alert has unit-test cases where it fires and where it must not.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from common.settings import PROJECT_ROOT
from tests.deploy.test_grafana_dashboard import exported_names

RULES_DIR = PROJECT_ROOT / "deploy" / "prometheus"
RULES = RULES_DIR / "alerts.yaml"
RULE_TESTS = RULES_DIR / "alerts-test.yaml"
PROMTOOL = shutil.which("promtool")

RULE_FILE: dict[str, Any] = yaml.safe_load(RULES.read_text(encoding="utf-8"))
ALERTS: list[dict[str, Any]] = [
    rule for group in RULE_FILE["groups"] for rule in group["rules"] if "alert" in rule
]

needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not on PATH (Debian: apt-get install prometheus), so the rules were not "
    "checked nor their unit tests run",
)


def promtool(*args: str) -> None:
    assert PROMTOOL is not None
    done = subprocess.run(
        [PROMTOOL, *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    # promtool reports a failing case (expected vs got alerts) on stdout, a syntax error on stderr.
    assert done.returncode == 0, f"promtool {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@needs_promtool
def test_promtool_checks_the_rules() -> None:
    promtool("check", "rules", str(RULES.relative_to(PROJECT_ROOT)))


@needs_promtool
def test_promtool_unit_tests_pass() -> None:
    promtool("test", "rules", str(RULE_TESTS.relative_to(PROJECT_ROOT)))


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: the identifiers left once strings, label matchers,
    ranges, label lists and offsets are cut, less functions (followed by `(`) and set operators."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    expr = re.sub(r"\boffset\s+\w+", " ", expr)
    words = re.findall(r"(?<![\w.])([A-Za-z_:][\w:]*)\b(?!\s*\()", expr)
    return {word for word in words if word not in {"and", "or", "unless", "bool"}}


def kept_labels(expr: str) -> set[str]:
    """Labels an alert's series keep: those its aggregations group by (every rule here aggregates,
    since Ray's per-process labels are not worth an alert's identity)."""
    lists = re.findall(r"\bby\s*\(([^)]*)\)", expr)
    return {label.strip() for labels in lists for label in labels.split(",") if label.strip()}


def alert_id(alert: dict[str, Any]) -> str:
    return str(alert["alert"])


def test_one_group_named_helio() -> None:
    assert [group["name"] for group in RULE_FILE["groups"]] == ["helio"]
    assert ALERTS and len({alert_id(a) for a in ALERTS}) == len(ALERTS)


@pytest.mark.parametrize("alert", ALERTS, ids=alert_id)
def test_the_expression_reads_only_exported_metrics(alert: dict[str, Any]) -> None:
    names = metric_names(alert["expr"])
    assert names and names <= set(exported_names()), names - set(exported_names())


@pytest.mark.parametrize("alert", ALERTS, ids=alert_id)
def test_the_alert_has_severity_summary_and_description(alert: dict[str, Any]) -> None:
    assert alert["labels"]["severity"] in {"critical", "warning"}
    assert alert["annotations"]["summary"].strip() and alert["annotations"]["description"].strip()


@pytest.mark.parametrize("alert", ALERTS, ids=alert_id)
def test_templated_labels_are_kept_by_the_expression(alert: dict[str, Any]) -> None:
    # A label the aggregation dropped renders as "<no value>" in the operator's page.
    text = " ".join(alert["annotations"].values())
    used = set(re.findall(r"\$labels\.(\w+)", text))
    assert used <= kept_labels(alert["expr"])


KINDS: list[tuple[str, list[str]]] = [
    ("a run failed after all its retries", ["ray_helio_job_retries_exhausted_total", "increase("]),
    ("a run timed out", ["ray_helio_scheduled_runs_total", 'status="timed_out"', "increase("]),
    (
        "no success within the expected interval",
        ["time()", "ray_helio_job_last_success_s", "ray_helio_job_expected_interval_s"],
    ),
    ("freshness lag over its 60 s bound", ["ray_helio_freshness_lag_s", "by (collection)", "> 60"]),
    ("API 5xx share", ["ray_helio_request_latency_s_count", 'status=~"5.."', " / "]),
    ("chat fallbacks past the local model", ["ray_helio_fallbacks_total", "llama_cpp", "/store/helio/ask"]),
    ("Kafka lag high and not shrinking", ["ray_helio_kafka_consumer_lag", "deriv("]),
]


@pytest.mark.parametrize(("kind", "fragments"), KINDS, ids=[kind for kind, _ in KINDS])
def test_the_alert_kind_exists(kind: str, fragments: list[str]) -> None:
    matching = [alert_id(a) for a in ALERTS if all(fragment in a["expr"] for fragment in fragments)]
    assert len(matching) == 1, f"{kind}: {matching}"


def test_the_overdue_and_freshness_alerts_wait_before_firing() -> None:
    # A run finishing as the deadline passes, or a burst of changes, is not an incident.
    waits = {alert_id(a): a.get("for") for a in ALERTS}
    assert waits["HelioJobOverdue"] and waits["HelioFreshnessLagHigh"]


def test_every_alert_has_unit_tests_that_fire_and_that_must_not() -> None:
    cases = [
        case
        for test in yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
        for case in test["alert_rule_test"]
    ]
    fires = {case["alertname"] for case in cases if case.get("exp_alerts")}
    silent = {case["alertname"] for case in cases if not case.get("exp_alerts")}
    names = {alert_id(a) for a in ALERTS}
    assert fires == names and silent == names
