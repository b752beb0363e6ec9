"""What a use case answers when it cannot: the caller's request is wrong, what it names does not exist, or a
dependency is down. Entry points map them to their protocol (serve_app.errors: 422, 404, 503)."""

from __future__ import annotations


class InvalidRequest(Exception):
    """The caller's request breaks a rule the query parameters alone cannot express."""


class NotFound(Exception):
    """What the request names does not exist (a product id in the path)."""


class DependencyUnavailable(Exception):
    """A service the request needs is down or too slow."""

    def __init__(self, dependency: str, reason: str) -> None:
        super().__init__(f"{dependency} unavailable: {reason}")
