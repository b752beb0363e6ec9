"""Calls from the router to the app's other deployments, with one error contract."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kernel.errors import DependencyUnavailable, InvalidRequest, NotFound

log = logging.getLogger(__name__)

# What a use case raises about the request itself: the caller gets it as if the call had run here.
USE_CASE_ERRORS = (InvalidRequest, NotFound, DependencyUnavailable)


async def call_deployment(handle: Any, method: str, *args: Any, dependency: str, timeout_s: float) -> Any:
    """`handle.method.remote(*args)` within `timeout_s`. A use case's own error in the replica is raised
    as it was; anything else (a replica dead, back-pressure, a timeout, a bug) is DependencyUnavailable
    naming `dependency`, so the route answers 503."""
    try:
        return await asyncio.wait_for(getattr(handle, method).remote(*args), timeout_s)
    except TimeoutError:
        raise DependencyUnavailable(dependency, f"no answer within {timeout_s:g} s") from None
    except Exception as error:  # Serve wraps replica deaths, back-pressure and the replica's errors alike
        cause = getattr(error, "cause", None)  # a RayTaskError carries the replica's exception
        if isinstance(cause, USE_CASE_ERRORS):
            raise cause from None
        log.warning("%s %s failed: %s", dependency, method, error)
        raise DependencyUnavailable(dependency, f"{method} failed ({type(error).__name__})") from None
