"""The platform's Postgres address as Medusa's driver takes it: a Unix socket's folder percent-encoded as
the host with an explicit port and no TLS (Medusa's driver reads neither `?host=` nor a bare socket path),
a server's host, port and password kept."""

from __future__ import annotations

import pytest

from common.medusa_local import medusa_database_url


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        (
            "postgresql://postgres:@/postgres?host=/tmp/pg data",
            "postgres://postgres@%2Ftmp%2Fpg%20data:5432/medusa?sslmode=disable",
        ),
        (
            "postgresql://ysh:s3cr%2Ft@db.internal:6543/ysh?sslmode=require",
            "postgres://ysh:s3cr%2Ft@db.internal:6543/medusa?sslmode=require",
        ),
        ("postgresql://ysh@db.internal/ysh", "postgres://ysh@db.internal:5432/medusa?sslmode=prefer"),
    ],
)
def test_medusa_database_url(dsn: str, expected: str) -> None:
    assert medusa_database_url(dsn, "medusa") == expected
