"""One error shape for every response: `{"detail": "<message>"}`, never a stack trace.

422 for a request the caller got wrong, 404 for a product that does not exist, 503 when a dependency
(vector index, embedder, catalog database) is down, 500 for our own bugs, whose details go to the log only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from kernel.errors import DependencyUnavailable, InvalidRequest, NotFound

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    detail: str = Field(description="What went wrong, in words meant for the caller.")


def error_response(status_code: int, detail: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The one error shape, for handlers and for middleware that answers before the app."""
    return JSONResponse(ErrorBody(detail=detail).model_dump(), status_code=status_code, headers=headers)


def _location(loc: tuple[int | str, ...]) -> str:
    # ("query", "limit") -> "limit": the caller knows where query parameters live.
    return ".".join(str(part) for part in loc if part not in ("query", "body", "path"))


async def _validation_failed(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [f"{_location(tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}" for e in exc.errors()]
    return error_response(422, "; ".join(problems) or "invalid request")


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    return error_response(422, str(exc))


async def _not_found(_: Request, exc: Exception) -> JSONResponse:
    return error_response(404, str(exc))


async def _dependency_unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.warning("%s", exc)
    return error_response(503, str(exc))


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail), exc.headers)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_failed)
    app.add_exception_handler(InvalidRequest, _invalid_request)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(DependencyUnavailable, _dependency_unavailable)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
