"""Async access to the collections through the vector-index owner actor.

The router awaits the actor's ObjectRefs directly instead of going through the blocking
`RemoteVectorStore`, so a slow index never stalls the replica's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import ray.exceptions
from ray.actor import ActorHandle

from kernel.errors import DependencyUnavailable
from kernel.schemas import CATALOG_COLLECTION
from kernel.vectors import Hit, SearchRequest, VectorStore

log = logging.getLogger(__name__)

VECTOR_INDEX = "vector index"


def _unavailable(reason: str, cause: BaseException | None = None) -> DependencyUnavailable:
    # Ray's messages carry tracebacks, pids and server paths: they go to the log, not to the caller.
    if cause is not None:
        log.warning("vector index: %s: %s", reason, cause)
    return DependencyUnavailable(VECTOR_INDEX, reason)


class CollectionMissing(DependencyUnavailable, LookupError):
    """The index is up but has no such collection (its job has not run yet); a `LookupError`, as the
    knowledge index port of `rag.assistant` reports a missing collection."""


def joined(payload: dict[str, Any], fields: Sequence[str]) -> str:
    return " ".join(str(payload.get(name) or "") for name in fields)


class VectorIndexClient:
    """Finds the owner actor on first use and again after it died, so a restarted index is picked up."""

    def __init__(self, resolve: Callable[[], ActorHandle], timeout_s: float) -> None:
        self._resolve = resolve
        self._timeout_s = timeout_s
        self._handle: Any = None  # Any: Ray's stubs do not know the actor's methods

    async def _actor(self) -> Any:
        if self._handle is None:
            try:
                # Looking the actor up (or starting it) blocks on the GCS: keep it off the event loop.
                self._handle = await asyncio.wait_for(asyncio.to_thread(self._resolve), self._timeout_s)
            except TimeoutError:
                raise _unavailable(f"index actor not reachable within {self._timeout_s:g} s") from None
            except Exception as error:
                raise _unavailable(f"cannot reach the index actor ({type(error).__name__})", error) from None
        return self._handle

    async def _call(self, what: str, collection: str, remote: Callable[[Any], Awaitable[Any]]) -> Any:
        """`remote(actor)` (the actor method's ObjectRef), awaited within the timeout; Ray's failures as
        the index being unavailable, and a collection the actor lacks as `CollectionMissing`."""
        actor = await self._actor()
        try:
            return await asyncio.wait_for(remote(actor), self._timeout_s)
        except TimeoutError:
            raise _unavailable(f"no answer within {self._timeout_s:g} s") from None
        except ray.exceptions.RayActorError as error:
            self._handle = None  # dead for good: look it up again on the next call
            raise _unavailable("the index actor is not running", error) from None
        except ray.exceptions.RayTaskError as error:
            if isinstance(error.cause, LookupError):
                raise _missing(collection) from None
            raise _unavailable(f"{what} failed ({type(error.cause).__name__})", error.cause) from None
        except ray.exceptions.RayError as error:
            raise _unavailable(f"{what} failed ({type(error).__name__})", error) from None

    async def search(self, request: SearchRequest, collection: str = CATALOG_COLLECTION) -> list[Hit]:
        hits: list[Hit] = await self._call(
            "search", collection, lambda actor: actor.search.remote(collection, request)
        )
        return hits

    async def brands(self) -> list[str]:
        brands: list[str] = await self._call(
            "facet", CATALOG_COLLECTION, lambda actor: actor.facet.remote(CATALOG_COLLECTION, "brand")
        )
        return brands

    async def texts(self, collection: str, fields: Sequence[str]) -> list[str]:
        points: list[tuple[str, dict[str, Any]]] = await self._call(
            "scan", collection, lambda actor: actor.scan.remote(collection, list(fields))
        )
        return [joined(payload, fields) for _, payload in points]

    async def describe(self) -> str:
        """For the health check: how many products the catalog collection holds."""
        count = await self._call(
            "count", CATALOG_COLLECTION, lambda actor: actor.count.remote(CATALOG_COLLECTION)
        )
        return f"{count} products in {CATALOG_COLLECTION}"


class LocalVectorIndex:
    """The in-process twin of `VectorIndexClient`, over any `VectorStore` (no actor, no Ray); the same
    answers and errors (tests/common/test_vector_owner.py holds them side by side)."""

    def __init__(self, store: VectorStore) -> None:
        self._store = store

    async def search(self, request: SearchRequest, collection: str = CATALOG_COLLECTION) -> list[Hit]:
        with _collection_of(collection):
            return self._store.search(collection, request)

    async def brands(self) -> list[str]:
        with _collection_of(CATALOG_COLLECTION):
            return self._store.facet(CATALOG_COLLECTION, "brand")

    async def texts(self, collection: str, fields: Sequence[str]) -> list[str]:
        with _collection_of(collection):
            return [joined(payload, fields) for _, payload in self._store.scan(collection, fields)]

    async def describe(self) -> str:
        with _collection_of(CATALOG_COLLECTION):
            return f"{self._store.count(CATALOG_COLLECTION)} products in {CATALOG_COLLECTION}"


@contextmanager
def _collection_of(collection: str) -> Iterator[None]:
    try:
        yield
    except LookupError:
        raise _missing(collection) from None


def _missing(collection: str) -> CollectionMissing:
    return CollectionMissing(VECTOR_INDEX, f"no collection {collection!r}: run its job")
