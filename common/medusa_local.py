"""The storefront's Medusa server run from this checkout (storefront/, installed with `npm ci`): its
database on the platform's Postgres, its migrations and admin user, the server process. `make
run-storefront` and the storefront tests start it this way; a real deployment runs Medusa on its own."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import httpx
import psycopg

from common.settings import PROJECT_ROOT

STOREFRONT_DIR = PROJECT_ROOT / "storefront"
INSTALLED = STOREFRONT_DIR / "node_modules" / ".installed"  # written after `npm ci` (Makefile)


class MedusaNotInstalled(RuntimeError):
    """storefront/'s packages are not installed."""


def medusa_database_url(dsn: str, database: str) -> str:
    """The platform's Postgres as Medusa's driver takes it, for another database on it: a Unix socket's
    folder percent-encoded as the host with an explicit port, and no TLS where the server has none."""
    parts = urlsplit(dsn)
    query = parse_qs(parts.query)
    # urlsplit leaves the user and password percent-encoded: decoded first, so they are encoded once.
    user = quote(unquote(parts.username or "postgres"), safe="")
    password = f":{quote(unquote(parts.password), safe='')}" if parts.password else ""
    if "host" in query:  # a Unix socket: postgresql://postgres:@/postgres?host=/path
        host, port, tls = quote(query["host"][0], safe=""), "5432", "disable"
    else:
        host, port, tls = (
            parts.hostname or "127.0.0.1",
            str(parts.port or 5432),
            query.get("sslmode", ["prefer"])[0],
        )
    return f"postgres://{user}{password}@{host}:{port}/{database}?sslmode={tls}"


def create_database(dsn: str, name: str, *, template: str | None = None) -> bool:
    """Creates the database `name` (a copy of `template`) unless it exists; whether it did."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{clause}')
    return True


def medusa_env(database_url: str, *, jwt_secret: str, cookie_secret: str) -> dict[str, str]:
    """The server's environment: this one's, less the platform's own DATABASE_URL and MEDUSA_* settings."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("MEDUSA_")}
    return env | {"DATABASE_URL": database_url, "JWT_SECRET": jwt_secret, "COOKIE_SECRET": cookie_secret}


def medusa_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`medusa <args>` from storefront/'s packages; RuntimeError with its output when it fails."""
    _require_installed()
    done = subprocess.run(
        ["npx", "--no-install", "medusa", *args],
        cwd=STOREFRONT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"medusa {' '.join(args)} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done


def start_medusa(
    env: dict[str, str], *, host: str, port: int, log: Path, timeout_s: float = 120
) -> subprocess.Popen[bytes]:
    """`medusa start` in a process group of its own, its output in `log`; returns once /health answers."""
    _require_installed()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            ["npx", "--no-install", "medusa", "start", "-H", host, "-p", str(port)],
            cwd=STOREFRONT_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # npx starts node under it: the group stops together
        )
    deadline = time.monotonic() + timeout_s
    while not healthy(f"http://{host}:{port}"):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_medusa(process)
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"Medusa did not come up on {host}:{port} within {timeout_s:.0f} s: {tail}")
        time.sleep(0.5)
    return process


def stop_medusa(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _require_installed() -> None:
    if not INSTALLED.exists():
        raise MedusaNotInstalled(
            f"Medusa is not installed: run `npm ci --prefix {STOREFRONT_DIR}` (Node.js 20+)"
        )


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
