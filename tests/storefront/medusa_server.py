"""A real Medusa v2 server for the storefront tests: the project in storefront/ (installed by `make test`
with `npm ci`), on a database of its own on the suite's Postgres.

Migrating takes ≈15 s here, so it is done once per session into a template database (with the admin
user); each test's server starts on a clone of it (`CREATE DATABASE … TEMPLATE`, about a second) and so
begins with an empty store. A server boots in ≈6 s and holds ≈330 MB."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import psycopg
import pytest
from pydantic import SecretStr

from common.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port

STOREFRONT = PROJECT_ROOT / "storefront"
INSTALLED = STOREFRONT / "node_modules" / ".installed"  # written by `make test` after `npm ci`
ADMIN_EMAIL = "admin@ysh.test"
ADMIN_PASSWORD = "storefront-test-password"


def medusa_database_url(server_uri: str, database: str) -> str:
    """The suite's Postgres (a Unix socket) as Medusa's driver takes it: the socket folder
    percent-encoded as the host, an explicit port and no TLS."""
    parts = urlsplit(server_uri)
    socket_dir = parse_qs(parts.query)["host"][0]
    host = quote(socket_dir, safe="")
    return f"postgres://{parts.username or 'postgres'}@{host}:5432/{database}?sslmode=disable"


def medusa_cli(*args: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        ["npx", "--no-install", "medusa", *args],
        cwd=STOREFRONT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"medusa {' '.join(args)}: {done.stdout[-2000:]}{done.stderr[-2000:]}"


def server_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "MEDUSA_"))}
    return env | {
        "DATABASE_URL": database_url,
        "JWT_SECRET": "storefront-test-jwt-secret",
        "COOKIE_SECRET": "storefront-test-cookie-secret",
        "NODE_ENV": "development",
    }


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
    with psycopg.connect(server_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = server_env(medusa_database_url(server_uri, name))
    medusa_cli("db:migrate", env=env)
    medusa_cli("user", "-e", ADMIN_EMAIL, "-p", ADMIN_PASSWORD, env=env)
    return name


@contextmanager
def medusa_server(server_uri: str, template: str, logs: Path) -> Iterator[MedusaServer]:
    """A Medusa server on a fresh clone of the template, on 127.0.0.1; stopped when the block ends."""
    name = f"medusa_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(logs, "w") as log:
        process = subprocess.Popen(
            ["npx", "--no-install", "medusa", "start", "-H", "127.0.0.1", "-p", str(port)],
            cwd=STOREFRONT,
            env=server_env(medusa_database_url(server_uri, name)),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # npx starts node under it: the group goes together
        )
    try:
        deadline = time.monotonic() + 120
        while not _healthy(url):
            assert process.poll() is None, f"Medusa exited: {logs.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"Medusa not up in 120 s: {logs.read_text()[-3000:]}"
            time.sleep(0.5)
        yield MedusaServer(url)
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
