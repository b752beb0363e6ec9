"""Structured logs: one JSON object per line, carrying the request id, with secrets and personal
data redacted.

What Ray Serve already gives, and is used as is: its proxy takes an incoming `X-Request-ID` (or makes
one), answers it in the `X-Request-ID` response header, and carries it in the request context to every
deployment a handle call reaches; `logging_config: {encoding: JSON}` in the Serve config makes Serve's
own logs (`ray.serve`, access logs, replicas' redirected output) JSON with `request_id`. What this adds:
the same for the platform's own loggers (`request_id` read from Serve's context, or bound by
`serve_app.observability` when the API runs without Serve), and redaction of what must never reach a
log line, on both. `configure_logging` is the `worker_process_setup_hook` of the Serve configs, so it
runs in every replica's process; a job's workers get it the same way through the job's runtime env.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

from pydantic import SecretStr
from pythonjsonlogger.json import JsonFormatter

from common.settings import Settings, get_settings
from kernel.pii import redact as redact_personal

REDACTED = "[REDACTED]"
_SECRET_PATTERNS = (
    (re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"\bsk-[\w-]{8,}"), REDACTED),
    # The password of a DSN/URL (`postgresql://user:secret@host`), keeping the rest for debugging.
    (re.compile(r"(\b[a-z][\w+.-]*://[^:/@\s]*:)[^@\s]+(@)"), rf"\g<1>{REDACTED}\g<2>"),
)
_MIN_SECRET_CHARS = 4  # shorter values would blank out ordinary words
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}

_request_id: ContextVar[str | None] = ContextVar("helio_request_id", default=None)


def current_request_id() -> str | None:
    """The request being served: bound here (the API without Serve), else Serve's request context."""
    bound = _request_id.get()
    if bound is not None or "ray.serve" not in sys.modules:
        return bound
    from ray.serve.context import _get_serve_request_context

    return _get_serve_request_context().request_id or None


@contextmanager
def bound_request_id(request_id: str) -> Iterator[None]:
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def secret_values(settings: Settings) -> frozenset[str]:
    """The values of the settings' secrets (tokens, API keys, passwords)."""
    values = (getattr(settings, name) for name in type(settings).model_fields)
    return frozenset(
        secret.get_secret_value()
        for secret in values
        if isinstance(secret, SecretStr) and len(secret.get_secret_value()) >= _MIN_SECRET_CHARS
    )


class Redactor:
    """Secrets (the settings' values, bearer tokens, `sk-` keys, DSN passwords), then personal data
    (CPF, CNPJ, e-mail, phone… as `kernel.pii` finds them) replaced by placeholders."""

    def __init__(self, secrets: frozenset[str] = frozenset()) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted(secrets, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _SECRET_PATTERNS:
            text = pattern.sub(replacement, text)
        return redact_personal(text).text


class RedactFilter(logging.Filter):
    """Redacts a record's message (arguments merged in), traceback and string extras in place."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor(record.getMessage())
        record.args = None
        if record.exc_info:
            # Rendered now, so formatters print the redacted text instead of rendering it again.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRS and isinstance(value, str):
                setattr(record, name, self.redactor(value))
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to the current `sys.stderr`, which Ray's workers and test runners replace."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


def configure_logging(level: int | str = logging.INFO, settings: Settings | None = None) -> None:
    """JSON lines with `request_id` on stderr from the root logger, redacted; redaction added to
    Serve's own logger too. Idempotent: a second call changes only the level."""
    root = logging.getLogger()
    root.setLevel(level)
    if any(isinstance(handler, _StderrHandler) for handler in root.handlers):
        return
    redact = RedactFilter(Redactor(secret_values(settings or get_settings())))
    handler = _StderrHandler()
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(redact)
    root.addHandler(handler)
    # Serve's logger does not propagate; a logger-level filter survives Serve resetting its handlers.
    logging.getLogger("ray.serve").addFilter(redact)
