"""Per-request metrics and the request id, as ASGI middleware around the API.

Each request is recorded in `helio_request_latency_s` by route template (`/store/helio/products/
{product_id}/compatible`, never the raw path; `unmatched` for a path no route knows), method and
status; a streamed answer counts until its last byte. The request id is Serve's when the API runs in
Serve (its proxy reads or makes `X-Request-ID`, answers it, and carries it across deployments);
without Serve this middleware does the same, so logs carry an id either way.
"""

from __future__ import annotations

import re
import time
import uuid

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.logs import bound_request_id, current_request_id
from common.metrics import observe_request

REQUEST_ID_HEADER = "X-Request-ID"
UNMATCHED = "unmatched"
_VALID_REQUEST_ID = re.compile(r"[\w.:-]{1,128}")  # what a caller's id may be: no log injection


class RequestObservability:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        serve_request_id = current_request_id()
        request_id = serve_request_id or _incoming_request_id(scope) or uuid.uuid4().hex
        status = 500  # unless a response starts: an exception escaped every handler

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if serve_request_id is None:  # under Serve its proxy adds the header
                    MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        started = time.perf_counter()
        try:
            with bound_request_id(request_id):
                await self.app(scope, receive, send_observed)
        finally:
            observe_request(_route_template(scope), scope["method"], status, time.perf_counter() - started)


def install_observability(app: FastAPI) -> None:
    app.add_middleware(RequestObservability)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            return text if _VALID_REQUEST_ID.fullmatch(text) else None
    return None


def _route_template(scope: Scope) -> str:
    """The matched route's path template; the router writes the route into the shared scope."""
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    return template if isinstance(template, str) else UNMATCHED
