"""The API's routes, one module per feature; `serve_app.api` assembles them. Each route takes its service from
`app.state` through an `Annotated` dependency (`service_on_state`), calls it and shapes the answer; the work
is the service's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request

from kernel.errors import DependencyUnavailable


def service_on_state(attribute: str, dependency: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency handing the route the service `create_search_api` put on `app.state` under
    `attribute`; 503 naming `dependency` when the app was built without it."""

    # async, so FastAPI calls it on the event loop instead of a thread-pool hop per request
    async def service(request: Request) -> Any:
        found = getattr(request.app.state, attribute, None)
        if found is None:
            raise DependencyUnavailable(dependency, "not configured")
        return found

    return service
