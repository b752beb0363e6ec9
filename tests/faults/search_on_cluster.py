"""The fault tests' search app deployed on another Ray cluster than the suite's, by a driver of its own
(the test process stays the suite's driver): `python -m tests.faults.search_on_cluster PORT` with
RAY_ADDRESS, DATABASE_URL and DATA_DIR set. It indexes the small test catalog through the cluster's
index owner, then serves the app on 127.0.0.1:PORT; Serve keeps it running after this driver exits."""

from __future__ import annotations

import sys

from ray import serve

from common.embedded import init_ray
from common.settings import Settings
from common.vectors.owner import RemoteVectorStore, vector_index
from models.embedders import EmbedderConfig, SentenceTransformerEmbedder
from serve_app.app import build_search_app
from serve_app.config import SearchAppConfig
from tests.faults.conftest import APP_NAME, FAULTS_CONFIG
from tests.serve_app.catalog_data import catalog_rows, index_catalog


def main(port: int) -> None:
    settings = Settings()
    init_ray(settings)  # refuses a cluster of several nodes left on the embedded defaults
    index_catalog(
        RemoteVectorStore(vector_index(settings)),
        SentenceTransformerEmbedder(EmbedderConfig()),
        catalog_rows(),
    )
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(
        build_search_app(SearchAppConfig.model_validate(FAULTS_CONFIG), settings),
        name=APP_NAME,
        route_prefix="/",
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
