"""Async access to the collections through the vector-index owner actor.

The router awaits the actor's ObjectRefs directly instead of going through the blocking
`RemoteVectorStore`, so a slow index never stalls the replica's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import ray.exceptions
from ray.actor import ActorHandle

from kernel.errors import DependencyUnavailable
from kernel.schemas import CATALOG_COLLECTION
from kernel.vectors import (
    FacetCount,
    FacetQuery,
    Hit,
    SearchRequest,
    VectorStore,
    WideningSearch,
    count_facets,
    search_widening,
)

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

    async def search_widening(
        self, widening: WideningSearch, collection: str = CATALOG_COLLECTION
    ) -> list[Hit]:
        hits: list[Hit] = await self._call(
            "search", collection, lambda actor: actor.search_widening.remote(collection, widening)
        )
        return hits

    async def facets(
        self, query: FacetQuery, collection: str = CATALOG_COLLECTION
    ) -> dict[str, list[FacetCount]]:
        counts: dict[str, list[FacetCount]] = await self._call(
            "facet", collection, lambda actor: actor.facets.remote(collection, query)
        )
        return counts

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


class DirectVectorIndex:
    """The same port straight over a `VectorStore`, no actor: the Qdrant server (QDRANT_URL), which every
    replica may query itself, or an in-process store (the eval, tests). Each call runs in a worker thread
    within `timeout_s`, so a slow server never stalls the event loop; the answers and errors are the
    actor client's (tests/common/test_vector_owner.py holds them side by side)."""

    def __init__(self, store: VectorStore, timeout_s: float = 10.0) -> None:
        self._store = store
        self._timeout_s = timeout_s

    async def _call(self, what: str, collection: str, read: Callable[[], Any]) -> Any:
        try:
            return await asyncio.wait_for(asyncio.to_thread(read), self._timeout_s)
        except TimeoutError:
            raise _unavailable(f"no answer within {self._timeout_s:g} s") from None
        except LookupError:
            raise _missing(collection) from None
        except Exception as error:  # the server's client raises its own kinds for a connection lost
            raise _unavailable(f"{what} failed ({type(error).__name__})", error) from None

    async def search(self, request: SearchRequest, collection: str = CATALOG_COLLECTION) -> list[Hit]:
        hits: list[Hit] = await self._call(
            "search", collection, lambda: self._store.search(collection, request)
        )
        return hits

    async def search_widening(
        self, widening: WideningSearch, collection: str = CATALOG_COLLECTION
    ) -> list[Hit]:
        hits: list[Hit] = await self._call(
            "search", collection, lambda: search_widening(partial(self._store.search, collection), widening)
        )
        return hits

    async def facets(
        self, query: FacetQuery, collection: str = CATALOG_COLLECTION
    ) -> dict[str, list[FacetCount]]:
        counts: dict[str, list[FacetCount]] = await self._call(
            "facet", collection, lambda: count_facets(partial(self._store.facet_counts, collection), query)
        )
        return counts

    async def brands(self) -> list[str]:
        brands: list[str] = await self._call(
            "facet", CATALOG_COLLECTION, lambda: self._store.facet(CATALOG_COLLECTION, "brand")
        )
        return brands

    async def texts(self, collection: str, fields: Sequence[str]) -> list[str]:
        points: list[tuple[str, dict[str, Any]]] = await self._call(
            "scan", collection, lambda: list(self._store.scan(collection, fields))
        )
        return [joined(payload, fields) for _, payload in points]

    async def describe(self) -> str:
        count = await self._call("count", CATALOG_COLLECTION, lambda: self._store.count(CATALOG_COLLECTION))
        return f"{count} products in {CATALOG_COLLECTION}"


def _missing(collection: str) -> CollectionMissing:
    return CollectionMissing(VECTOR_INDEX, f"no collection {collection!r}: run its job")
