"""`make run-storefront`: the catalog in a local Medusa storefront, to browse.

Starts the storefront's Medusa server from storefront/ on 127.0.0.1 (MEDUSA_PORT, default 9000), its
database `medusa` on the platform's Postgres (the embedded one unless DATABASE_URL is set), migrated and
with an admin user whose password is made once under DATA_DIR (mode 600). Loads the catalog first when
it is empty (`python -m ray_jobs.catalog_etl`), publishes it (ray_jobs.storefront_publish), prints the
Store API's URL and publishable key, and serves until Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from pydantic import SecretStr

from common import postgres
from common.embedded import stop_started_postgres, stored_secret
from common.medusa_local import (
    create_database,
    medusa_cli,
    medusa_database_url,
    medusa_env,
    start_medusa,
    stop_medusa,
)
from common.resources import Resources
from common.settings import get_settings
from ray_jobs import storefront_publish
from ray_jobs.progress import say, step

DATABASE = "medusa"
ADMIN_EMAIL = "admin@storefront.local"


def main() -> int:
    # A SIGTERM (a supervisor, `kill`) stops Medusa as Ctrl-C does: SystemExit runs the `finally` below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    settings = get_settings()
    resources = Resources(settings)
    port = int(os.environ.get("MEDUSA_PORT", "9000"))
    password = stored_secret(settings.data_dir / "medusa-admin-password")
    env = medusa_env(
        medusa_database_url(resources.dsn, DATABASE),
        jwt_secret=stored_secret(settings.data_dir / "medusa-jwt-secret"),
        cookie_secret=stored_secret(settings.data_dir / "medusa-cookie-secret"),
    )
    process = None
    try:
        with resources.connect() as conn:
            postgres.migrate(conn)
            products = conn.execute("SELECT count(*) AS n FROM products").fetchone()
        if not products or not products["n"]:
            with step("catalog ETL (the catalog is empty)"):
                subprocess.run([sys.executable, "-m", "ray_jobs.catalog_etl"], check=True)
        with step("Medusa's database, migrations and admin user"):
            new = create_database(resources.dsn, DATABASE)
            medusa_cli("db:migrate", env=env)
            if new:
                medusa_cli("user", "-e", ADMIN_EMAIL, "-p", password, env=env)
        with step(f"start Medusa on 127.0.0.1:{port}"):
            process = start_medusa(env, host="127.0.0.1", port=port, log=settings.data_dir / "medusa.log")
        url = f"http://127.0.0.1:{port}"
        publishing = settings.model_copy(
            update={
                "medusa_url": url,
                "medusa_admin_email": ADMIN_EMAIL,
                "medusa_admin_password": SecretStr(password),
            }
        )
        report = storefront_publish.run(Resources(publishing))
        say(report.summary())
        say(f"Store API: {url}/store/products (header x-publishable-api-key: {report.store_api_key})")
        say(f'  curl -H "x-publishable-api-key: {report.store_api_key}" "{url}/store/products?limit=5"')
        password_file = settings.data_dir / "medusa-admin-password"
        say(f"Admin API: {url}/admin ({ADMIN_EMAIL}, its password in {password_file})")
        say("Ctrl-C stops Medusa.")
        while process.poll() is None:
            time.sleep(1)
        say(f"Medusa stopped on its own: {settings.data_dir / 'medusa.log'}")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        if process is not None:
            stop_medusa(process)
        for directory in stop_started_postgres():
            say(f"  ✓ stopped Postgres ({directory})")


if __name__ == "__main__":
    sys.exit(main())
