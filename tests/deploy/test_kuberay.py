"""The KubeRay manifests in deploy/kuberay agree with the scheduler's config and the cluster's invariants."""

from __future__ import annotations

import json
from typing import Any

import yaml

from common.settings import PROJECT_ROOT
from ray_jobs.schedules import SchedulerConfig

KUBERAY = PROJECT_ROOT / "deploy" / "kuberay"


def manifests() -> list[dict[str, Any]]:
    documents = []
    for path in sorted(KUBERAY.glob("*.yaml")):
        documents += [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    return documents


def test_every_manifest_is_a_kuberay_resource() -> None:
    kinds = sorted({doc["kind"] for doc in manifests()})
    assert kinds == ["RayCluster", "RayCronJob", "RayJob"]
    assert all(doc["apiVersion"] == "ray.io/v1" for doc in manifests())


def chain(config: SchedulerConfig, name: str) -> list[str]:
    """`name`, then the jobs that run only after it (no cron of their own), depth first."""
    followers = [d for d in config.downstream(name) if config.jobs[d].cron is None]
    return [name, *(job for follower in followers for job in chain(config, follower))]


def test_cron_jobs_match_the_scheduler_config() -> None:
    """One RayCronJob per cron job, running its chain of dependants, within their time limits."""
    config = SchedulerConfig.from_yaml(PROJECT_ROOT / "ray_jobs" / "schedules.yaml")
    crons = [doc for doc in manifests() if doc["kind"] == "RayCronJob"]
    by_entry = {doc["spec"]["jobTemplate"]["entrypoint"].split(" --")[0]: doc["spec"] for doc in crons}
    scheduled = [name for name, job in config.jobs.items() if job.cron is not None]
    for name in scheduled:
        jobs = chain(config, name)
        spec = by_entry[" && ".join(config.jobs[job].entrypoint for job in jobs)]
        assert spec["schedule"] == config.jobs[name].cron, name
        assert spec["timeZone"] == config.timezone, name
        assert spec["jobTemplate"]["backoffLimit"] == config.policy(name).max_attempts - 1, name
        deadline = sum(config.jobs[job].timeout_s for job in jobs)
        assert spec["jobTemplate"]["activeDeadlineSeconds"] == deadline, name
    assert len(crons) == len(scheduled)
    assert {job for name in scheduled for job in chain(config, name)} == set(config.jobs)


def test_cluster_head_runs_no_work_and_gpu_workers_scale_from_zero() -> None:
    [cluster] = [doc for doc in manifests() if doc["kind"] == "RayCluster"]
    assert cluster["spec"]["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"
    groups = {group["groupName"]: group for group in cluster["spec"]["workerGroupSpecs"]}
    gpu = [g for g in groups.values() if "nvidia.com/gpu" in str(g["template"])]
    assert gpu and all(group["minReplicas"] == 0 for group in gpu)
    jobs = [doc for doc in manifests() if doc["kind"] in ("RayJob", "RayCronJob")]
    for job in jobs:
        spec = job["spec"].get("jobTemplate", job["spec"])
        assert spec["clusterSelector"] == {"ray.io/cluster": cluster["metadata"]["name"]}


def test_cluster_gcs_survives_a_head_restart_and_cpu_replicas_stay_off_gpu_nodes() -> None:
    [cluster] = [doc for doc in manifests() if doc["kind"] == "RayCluster"]
    fault_tolerance = cluster["spec"]["gcsFaultToleranceOptions"]
    assert fault_tolerance["redisAddress"] and fault_tolerance["externalStorageNamespace"]
    assert "secretKeyRef" in fault_tolerance["redisPassword"]["valueFrom"]  # never the password itself
    groups = {group["groupName"]: group for group in cluster["spec"]["workerGroupSpecs"]}
    offering = [
        name
        for name, group in groups.items()
        if "cpu_node" in json.loads(json.loads(group["rayStartParams"].get("resources", '"{}"')))
    ]
    assert offering == ["cpu"] and "nvidia.com/gpu" not in str(groups["cpu"]["template"])
