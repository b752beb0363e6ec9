"""Session-wide fixtures: one Postgres, one Ray, one embedding model per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from common.settings import Settings  # noqa: E402


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def postgres_server(data_dir: Path) -> Iterator[str]:
    """A real PostgreSQL 16 (pgserver) in a temp dir, stopped at the end of the session."""
    import pgserver

    server = pgserver.get_server(data_dir / "postgres", cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="session")
def settings(data_dir: Path, postgres_server: str) -> Settings:
    return Settings(data_dir=data_dir, database_url=postgres_server, qdrant_url=None)


@pytest.fixture(scope="session")
def ray_session(settings: Settings) -> Iterator[None]:
    """One local Ray for the suite (2 CPUs here), with the dashboard so jobs can be submitted."""
    import ray

    from common.embedded import init_ray

    init_ray(settings, include_dashboard=True, dashboard_host="127.0.0.1")
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def minilm():  # type: ignore[no-untyped-def]
    """The packaged all-MiniLM-L6-v2, loaded once."""
    from models.embedders import EmbedderConfig, SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(EmbedderConfig())
