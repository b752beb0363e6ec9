"""The router's calls to other deployments: a use case's own error crosses the hop as it was raised, anything
else is a 503 naming the deployment."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ray.exceptions import RayActorError, RayTaskError

from kernel.errors import DependencyUnavailable, InvalidRequest, NotFound
from serve_app.handles import call_deployment


class Method:
    def __init__(self, outcome: Any, delay_s: float = 0.0) -> None:
        self._outcome, self._delay_s = outcome, delay_s

    async def remote(self, *args: Any) -> Any:
        await asyncio.sleep(self._delay_s)
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        return (self._outcome, args)


class Handle:
    """Stands in for a Serve DeploymentHandle: `handle.method.remote(...)` is awaitable."""

    def __init__(self, outcome: Any, delay_s: float = 0.0) -> None:
        self.recommend = Method(outcome, delay_s)


def call(handle: Handle, timeout_s: float = 1.0) -> Any:
    called = call_deployment(handle, "recommend", 7, dependency="kit composer", timeout_s=timeout_s)
    return asyncio.run(called)


def in_replica(error: Exception) -> Exception:
    """What Serve raises in the caller when the replica's method raised `error`."""
    return RayTaskError("recommend", "Traceback …", error).as_instanceof_cause()


def test_the_answer_comes_back() -> None:
    assert call(Handle("kits")) == ("kits", (7,))


USE_CASE_ERRORS = [
    InvalidRequest("unknown city 'Sao Paolo'"),
    NotFound("no product 'x'"),
    DependencyUnavailable("catalog database", "down"),
]


@pytest.mark.parametrize("error", USE_CASE_ERRORS)
def test_a_use_case_error_in_the_replica_is_raised_as_it_was(error: Exception) -> None:
    with pytest.raises(type(error)) as raised:
        call(Handle(in_replica(error)))
    assert raised.value is error


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (in_replica(ZeroDivisionError("a bug")), r"recommend failed \(RayTaskError\(ZeroDivisionError\)\)"),
        (RayActorError(), r"recommend failed \(RayActorError\)"),
    ],
)
def test_anything_else_is_the_deployment_unavailable(outcome: Exception, reason: str) -> None:
    with pytest.raises(DependencyUnavailable, match=f"kit composer unavailable: {reason}"):
        call(Handle(outcome))


def test_a_slow_replica_is_unavailable_after_the_timeout() -> None:
    with pytest.raises(DependencyUnavailable, match=r"kit composer unavailable: no answer within 0\.05 s"):
        call(Handle("late", delay_s=5), timeout_s=0.05)
