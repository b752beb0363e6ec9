"""`make run`: the whole platform on one machine with embedded defaults.

Starts (or connects to) Ray and Postgres, loads the feeds into the catalog and the ANEEL tariffs, embeds
the catalog and the knowledge bases into the vector index, then serves the API until Ctrl-C. With
DATABASE_URL / QDRANT_URL / RAY_ADDRESS set, the same steps run against those servers.
"""

from __future__ import annotations

import sys

from common.embedded import init_ray
from common.settings import get_settings
from ray_jobs import catalog_etl, embed_catalog, knowledge_bases, tariffs
from ray_jobs.progress import say, step, table
from serve_app.config import DEFAULT_SERVE_CONFIG, SearchAppConfig
from serve_app.main import serve_api


def main() -> int:
    settings = get_settings()
    with step("start Ray" + (f" at {settings.ray_address}" if settings.ray_address else " (local)")):
        init_ray(settings)
    with step("catalog ETL"):
        report = catalog_etl.run(
            catalog_etl.CatalogEtlConfig(source=settings.feeds_uri, feeds_config=settings.feeds_config),
            settings,
        )
    say(table(report.per_distributor, catalog_etl.REPORT_COLUMNS))
    if report.accepted == 0:
        say("error: no feed row could be loaded; nothing to serve")
        return 1
    tariff_report = tariffs.run(tariffs.TariffsJobConfig(source=settings.tariffs_source), settings)
    say(f"  residential B1 tariffs in force today: {tariff_report.utilities} utilities")
    with step("embed catalog"):
        counts = embed_catalog.run(embed_catalog.EmbedJobConfig(), settings)
    say("  " + ", ".join(f"{key}: {value}" for key, value in counts.items()))
    with step("knowledge bases (documents and price passages)"):
        rows = knowledge_bases.run(knowledge_bases.KnowledgeJobConfig(source=settings.docs_uri), settings)
    say(table(rows, knowledge_bases.COLUMNS))
    say(f"▶ serving on http://{settings.host}:{settings.port} (docs at /docs); Ctrl-C stops")
    serve_api(settings, SearchAppConfig.from_yaml(DEFAULT_SERVE_CONFIG))
    return 0


if __name__ == "__main__":
    sys.exit(main())
