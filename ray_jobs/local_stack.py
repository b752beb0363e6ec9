"""`make run`: the whole platform on one machine with embedded defaults.

Starts (or connects to) Ray and Postgres, loads the feeds into the catalog and the ANEEL tariffs, embeds
the catalog and the knowledge bases into the vector index, starts the index syncer and the scheduler that
keep them fresh, then serves the API until Ctrl-C. With DATABASE_URL / QDRANT_URL / RAY_ADDRESS set, the
same steps run against those servers.

The local Ray it starts publishes where the stack's services are (`common.embedded.start_stack_ray`), so
the scheduler, `POST /admin/jobs/{name}/run`, `python -m ray_jobs.<job>` from the checkout and `ray job
submit --working-dir . -- python -m ray_jobs.<job>` all read and write the same Postgres, index and files.
"""

from __future__ import annotations

import os
import sys

import ray
from pydantic import SecretStr

from common.embedded import stack_file, start_stack_ray, stop_started_postgres, stored_secret
from common.job_submission import wait_for_job_agent
from common.resources import Resources
from common.settings import Settings, get_settings
from ray_jobs import (
    catalog_etl,
    change_streams,
    embed_catalog,
    index_sync,
    indexing,
    knowledge_bases,
    scheduler,
    tariffs,
)
from ray_jobs.progress import say, step, table
from serve_app.config import SearchAppConfig
from serve_app.main import serve_api


def main() -> int:
    settings = with_admin_token(get_settings())
    started_ray = False
    try:
        serve_config = SearchAppConfig.from_yaml(settings.serve_config)
        where = f" at {settings.ray_address}" if settings.ray_address else " (local)"
        with step("start Ray" + where):
            started_ray = start_stack_ray(settings, reserved_cpus=serve_config.reserved_cpus())
        return run_stack(settings, serve_config)
    except KeyboardInterrupt:  # Ctrl-C before the API was up
        return 130
    finally:
        stop_stack(settings, started_ray)


def run_stack(settings: Settings, serve_config: SearchAppConfig) -> int:
    """The pipeline on the stack's Ray, then the API until Ctrl-C."""
    resources = Resources(settings)
    with step("catalog ETL"):
        report = catalog_etl.run(
            catalog_etl.CatalogEtlConfig(source=settings.feeds_uri, feeds_config=settings.feeds_config),
            resources,
        )
    say(table(report.per_distributor, catalog_etl.REPORT_COLUMNS))
    if report.accepted == 0:
        say("error: no feed row could be loaded; nothing to serve")
        return 1
    tariff_report = tariffs.run(tariffs.TariffsJobConfig(source=settings.tariffs_source), resources)
    say(f"  residential B1 tariffs in force today: {tariff_report.utilities} utilities")
    with step("embed catalog"):
        counts = embed_catalog.run(indexing.EmbedJobConfig(), resources)
    say("  " + ", ".join(f"{key}: {value}" for key, value in counts.items()))
    with step("knowledge bases (documents and price passages)"):
        rows = knowledge_bases.run(knowledge_bases.KnowledgeJobConfig(source=settings.docs_uri), resources)
    say(table(rows, knowledge_bases.COLUMNS))
    with step("index syncer (price and stock changes → search within seconds)"):
        index_sync.start(settings)
    with step("Ray's job agent (jobs are submitted through it)"):
        if not wait_for_job_agent():
            say(
                "  warning: Ray's job agent did not start (another local Ray holding its port 52365?): "
                "job runs cannot be submitted; the API serves"
            )
    with step("scheduler (python -m ray_jobs.scheduler list|run NAME|history)"):
        jobs = ray.get(scheduler.start(settings).jobs.remote())
    for line in scheduler.graph_lines(jobs, entrypoints=False):
        say(f"  {line}")
    if change_streams.start(settings) is not None:
        say(f"  ERP change streams: consuming from {settings.kafka_bootstrap_servers}")
    say(f"▶ serving on http://{settings.host}:{settings.port} (docs at /docs); Ctrl-C stops")
    serve_api(settings, serve_config)
    return 0


def stop_stack(settings: Settings, started_ray: bool) -> None:
    """Ctrl-C: stop what this run started, line by line. Its own Ray takes with it the API, the scheduler,
    the index syncer and the change-stream consumers (all actors there); a Ray it joined is left as is."""
    say("■ stopping what this run started …")
    if started_ray:
        ray.shutdown()
        stack_file(settings).unlink(missing_ok=True)
        say("  ✓ stopped Ray (local): the API, scheduler, index syncer and change streams with it")
    elif ray.is_initialized():
        say(f"  Ray at {ray.get_runtime_context().gcs_address} was running before this run: left running")
    for directory in stop_started_postgres():
        say(f"  ✓ stopped Postgres ({directory})")


def with_admin_token(settings: Settings) -> Settings:
    """ADMIN_TOKEN, or one made once under data_dir (mode 600) so the admin API works on a laptop. Put
    in this process's environment before Ray starts: the API's replicas read secrets from theirs."""
    if settings.admin_token is not None:
        return settings
    path = settings.data_dir / "admin-token"
    token = stored_secret(path)
    say(f'  admin API token: {path} (curl -H "Authorization: Bearer $(cat {path})" …/admin/runs)')
    os.environ["ADMIN_TOKEN"] = token
    return settings.model_copy(update={"admin_token": SecretStr(os.environ["ADMIN_TOKEN"])})


if __name__ == "__main__":
    sys.exit(main())
