"""JSON log lines with the request id; no secret or personal data reaches them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from common.logs import bound_request_id, configure_logging
from common.settings import Settings

ADMIN_TOKEN = "adm-7f3c9e1b2a-4d8e6f0a2c5b7d9e1f3a"
log = logging.getLogger("tests.common.logs")


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """`configure_logging` on this process's root logger, undone afterwards."""
    root, serve = logging.getLogger(), logging.getLogger("ray.serve")
    handlers, level, serve_filters = list(root.handlers), root.level, list(serve.filters)
    configure_logging(settings=Settings(admin_token=SecretStr(ADMIN_TOKEN), database_url=None))
    capsys.readouterr()
    yield capsys
    root.handlers[:] = handlers
    root.setLevel(level)
    serve.filters[:] = serve_filters


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_a_line_is_json_with_the_request_id(json_logs: pytest.CaptureFixture[str]) -> None:
    with bound_request_id("req-42"):
        log.info("searched %s", "inversor 5 kW")
    log.warning("outside any request")
    inside, outside = lines(json_logs)
    assert inside["message"] == "searched inversor 5 kW"
    assert inside["request_id"] == "req-42"
    assert (inside["level"], inside["logger"]) == ("INFO", "tests.common.logs")
    assert outside["request_id"] is None


@pytest.mark.parametrize(
    ("message", "secret", "kept"),
    [
        (f"admin call with token {ADMIN_TOKEN}", ADMIN_TOKEN, "admin call"),
        ("ERP said 401 to Authorization: Bearer eyJhbGciOi.abc-123_x", "eyJhbGciOi", "Bearer"),
        ("openai key sk-proj-AbCdEf0123456789 rejected", "sk-proj-AbCdEf0123456789", "rejected"),
        ("connecting to postgresql://ysh:s3cr3t-pw@db.internal:5432/ysh", "s3cr3t-pw", "db.internal:5432"),
        ("cliente com CPF 529.982.247-25 pediu orçamento", "529.982.247-25", "orçamento"),
        ("resposta enviada para maria.souza@example.com.br", "maria.souza@example.com.br", "enviada"),
        ("ligar para (11) 98888-7777 amanhã", "98888-7777", "amanhã"),
    ],
)
def test_secrets_and_personal_data_are_redacted(
    json_logs: pytest.CaptureFixture[str], message: str, secret: str, kept: str
) -> None:
    log.info("%s", message)
    (line,) = lines(json_logs)
    assert secret not in line["message"]
    assert kept in line["message"]


def test_tracebacks_and_extras_are_redacted(json_logs: pytest.CaptureFixture[str]) -> None:
    dsn = "postgresql://ysh:hunter2-pw@db:5432/ysh"
    try:
        raise ConnectionError(f"cannot reach {dsn}")
    except ConnectionError:
        log.exception("sync failed", extra={"customer_email": "joao@example.com"})
    output = json_logs.readouterr().err
    assert "hunter2-pw" not in output
    assert "joao@example.com" not in output
    (line,) = (json.loads(text) for text in output.splitlines())
    assert "ConnectionError" in line["exc_info"]


def test_configuring_twice_keeps_one_handler(json_logs: pytest.CaptureFixture[str]) -> None:
    configure_logging(settings=Settings())
    log.info("once")
    assert len(lines(json_logs)) == 1
