"""The storefront tests' Medusa: a template migrated once per session, a server of its own per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.storefront.medusa_server import MedusaServer, medusa_server, medusa_template


@pytest.fixture(scope="session")
def medusa_database(postgres_server: str) -> str:
    return medusa_template(postgres_server)


@pytest.fixture
def medusa(postgres_server: str, medusa_database: str, tmp_path: Path) -> Iterator[MedusaServer]:
    with medusa_server(postgres_server, medusa_database, tmp_path / "medusa.log") as server:
        yield server
