"""A real Medusa v2 server for the storefront tests, started as `make run-storefront` starts it
(common/medusa_local.py): the project in storefront/ (installed by `make test` with `npm ci`), on a
database of its own on the suite's Postgres.

Migrating takes ≈15 s here, so it is done once per session into a template database (with the admin
user); each test's server starts on a clone of it (`CREATE DATABASE … TEMPLATE`, about a second) and so
begins with an empty store. A server boots in ≈6 s and holds ≈330 MB."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from common.medusa_local import (
    INSTALLED,
    create_database,
    medusa_cli,
    medusa_database_url,
    medusa_env,
    start_medusa,
    stop_medusa,
)
from common.settings import Settings
from tests.conftest import free_port

ADMIN_EMAIL = "admin@ysh.test"
ADMIN_PASSWORD = "storefront-test-password"


def server_env(server_uri: str, database: str) -> dict[str, str]:
    return medusa_env(
        medusa_database_url(server_uri, database),
        jwt_secret="storefront-test-jwt-secret",
        cookie_secret="storefront-test-cookie-secret",
    )


@dataclass(frozen=True)
class MedusaServer:
    url: str

    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(
            update={
                "medusa_url": self.url,
                "medusa_admin_email": ADMIN_EMAIL,
                "medusa_admin_password": SecretStr(ADMIN_PASSWORD),
            }
        )


def medusa_template(server_uri: str) -> str:
    """A database migrated for Medusa with the admin user; its name."""
    if shutil.which("npx") is None or not INSTALLED.exists():
        pytest.skip("Medusa is not installed: `make test` runs npm ci in storefront/ (needs Node.js 20+)")
    name = f"medusa_template_{uuid.uuid4().hex[:8]}"
    create_database(server_uri, name)
    env = server_env(server_uri, name)
    medusa_cli("db:migrate", env=env)
    medusa_cli("user", "-e", ADMIN_EMAIL, "-p", ADMIN_PASSWORD, env=env)
    return name


@contextmanager
def medusa_server(server_uri: str, template: str, log: Path) -> Iterator[MedusaServer]:
    """A Medusa server on a fresh clone of the template, on 127.0.0.1; stopped when the block ends."""
    name = f"medusa_{uuid.uuid4().hex[:8]}"
    create_database(server_uri, name, template=template)
    port = free_port()
    process = start_medusa(server_env(server_uri, name), host="127.0.0.1", port=port, log=log)
    try:
        yield MedusaServer(f"http://127.0.0.1:{port}")
    finally:
        stop_medusa(process)
