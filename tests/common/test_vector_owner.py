"""The vector-index owner actor on the session's local Ray, over a real Qdrant Edge folder.

One actor serves the whole module (starting one costs seconds here); each test writes its own collection."""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import ray
from qdrant_client import QdrantClient

from common.settings import Settings
from common.vectors.client import CollectionMissing, DirectVectorIndex, VectorIndexClient
from common.vectors.edge import EdgeVectorStore
from common.vectors.owner import RemoteVectorStore, stop_vector_index, vector_index
from common.vectors.server import QdrantServerVectorStore
from kernel.schemas import CATALOG_COLLECTION
from kernel.vectors import (
    CollectionSpec,
    FacetCount,
    FacetQuery,
    PayloadFilter,
    SearchRequest,
    SparseVector,
    VectorPoint,
    VectorStore,
    WideningSearch,
)

DIM = 8


def spec(collection: str) -> CollectionSpec:
    return CollectionSpec(collection, dense={"minilm": DIM}, sparse=("lexical",), keyword_fields=("brand",))


def make_points(count: int, seed: int) -> list[VectorPoint]:
    rng = random.Random(seed)
    return [
        VectorPoint(
            id=str(uuid.UUID(int=rng.getrandbits(128))),
            dense={"minilm": [rng.gauss(0.0, 1.0) for _ in range(DIM)]},
            sparse={"lexical": SparseVector(sorted(rng.sample(range(32), 3)), [1.0, 0.5, 0.25])},
            payload={"brand": rng.choice(("jinko", "byd"))},
        )
        for _ in range(count)
    ]


def actor_pid(handle: Any) -> int:
    """The actor's worker process, asked inside the actor: a restart gives a new one."""
    pid: int = ray.get(handle.__ray_call__.remote(lambda actor: os.getpid()))
    return pid


@pytest.fixture(scope="module")
def owner_settings(
    ray_session: None, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """An empty vector folder for this module; the actor is stopped afterwards, freeing its name."""
    stop_vector_index()
    yield settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("owner")})
    stop_vector_index()


def test_two_clients_share_one_index(owner_settings: Settings) -> None:
    writer: VectorStore = RemoteVectorStore(vector_index(owner_settings))
    reader: VectorStore = RemoteVectorStore(vector_index(owner_settings))
    points = make_points(30, seed=1)
    writer.ensure_collection(spec("shared"))
    writer.upsert("shared", points)
    writer.set_payload("shared", points[0].id, {"brand": "weg"})

    assert reader.count("shared") == 30
    assert sorted(reader.facet("shared", "brand")) == ["byd", "jinko", "weg"]
    assert dict(reader.scan("shared", ["brand"]))[points[0].id] == {"brand": "weg"}
    hits = reader.search(
        "shared",
        SearchRequest(
            limit=3,
            dense_name="minilm",
            dense=points[0].dense["minilm"],
            sparse_name="lexical",
            sparse=points[0].sparse["lexical"],
            filter=PayloadFilter(equals={"brand": "weg"}),
        ),
    )
    assert [h.id for h in hits] == [points[0].id]


def test_another_process_reads_through_the_actor(owner_settings: Settings) -> None:
    """What the Serve search deployment does: a different worker process, the same index."""
    store = RemoteVectorStore(vector_index(owner_settings))
    store.ensure_collection(spec("elsewhere"))
    store.upsert("elsewhere", make_points(10, seed=2))

    @ray.remote(num_cpus=0)
    def count_elsewhere(settings: Settings) -> int:
        return RemoteVectorStore(vector_index(settings)).count("elsewhere")

    assert ray.get(count_elsewhere.remote(owner_settings)) == 10


def test_restarted_actor_reloads_its_shards(owner_settings: Settings) -> None:
    handle = vector_index(owner_settings)
    store = RemoteVectorStore(handle)
    points = make_points(20, seed=3)
    store.ensure_collection(spec("durable"))
    store.upsert("durable", points)
    request = SearchRequest(limit=5, dense_name="minilm", dense=points[7].dense["minilm"])
    before = store.search("durable", request)
    first_pid = actor_pid(handle)

    ray.kill(handle, no_restart=False)
    # ray.kill is asynchronous: a call sent right after it may still reach the old process.
    deadline = time.monotonic() + 60
    while actor_pid(handle) == first_pid:
        assert time.monotonic() < deadline, "the actor was not restarted within 60 s of ray.kill"
        time.sleep(0.1)

    assert store.search("durable", request) == before  # the new process reloaded the shards from disk
    assert store.count("durable") == 20


def test_actor_serving_another_folder_is_refused(owner_settings: Settings) -> None:
    vector_index(owner_settings)
    elsewhere = owner_settings.model_copy(update={"data_dir": owner_settings.data_dir / "elsewhere"})
    with pytest.raises(RuntimeError, match="already serves"):
        vector_index(elsewhere)


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning")
def test_the_serving_port_answers_alike_through_the_actor_and_straight_over_a_store(
    owner_settings: Settings, tmp_path: Any
) -> None:
    """The congruence of the serving port: every method of `VectorIndexClient` (the owner actor) and of
    `DirectVectorIndex` over an Edge store and over the Qdrant server's client (its `:memory:` twin), on
    the same points, and a missing collection on each."""
    points = make_points(25, seed=4)
    catalog = spec(CATALOG_COLLECTION)
    remote = RemoteVectorStore(vector_index(owner_settings))
    edge = EdgeVectorStore(tmp_path / "twin")
    server = QdrantServerVectorStore(QdrantClient(":memory:"))
    for store in (remote, edge, server):
        store.ensure_collection(catalog)
        store.upsert(CATALOG_COLLECTION, points)
    indexes = {
        "actor": VectorIndexClient(lambda: vector_index(owner_settings), timeout_s=30),
        "edge": DirectVectorIndex(edge),
        "server": DirectVectorIndex(server),
    }
    request = SearchRequest(
        limit=5,
        dense_name="minilm",
        dense=points[3].dense["minilm"],
        sparse_name="lexical",
        sparse=points[3].sparse["lexical"],
        filter=PayloadFilter(equals={"brand": "jinko"}),
    )

    async def answers(index: VectorIndexClient | DirectVectorIndex) -> dict[str, Any]:
        hits = await index.search(request)
        # Dense only: RRF ties at a step's cut are broken arbitrarily by each engine.
        dense = replace(request, sparse_name=None, sparse=None)
        wider = WideningSearch(
            steps=(dense, replace(dense, filter=PayloadFilter())), enough=8, fallback=request
        )
        widened = await index.search_widening(wider)
        found: dict[str, Any] = {
            "search": [(hit.id, hit.payload) for hit in hits],
            "scores": [hit.score for hit in hits],
            "widened": [(hit.id, hit.payload["brand"]) for hit in widened],
            "facets": await index.facets(FacetQuery(("brand",), PayloadFilter(equals={"brand": "jinko"}))),
            "all_brands": await index.facets(FacetQuery(("brand",))),
            "brands": sorted(await index.brands()),
            "texts": sorted(await index.texts(CATALOG_COLLECTION, ["brand"])),
            "describe": await index.describe(),
        }
        with pytest.raises(CollectionMissing, match="no-such-collection"):
            await index.search(request, "no-such-collection")
        with pytest.raises(CollectionMissing, match="no-such-collection"):
            await index.search_widening(wider, "no-such-collection")
        with pytest.raises(CollectionMissing, match="no-such-collection"):
            await index.texts("no-such-collection", ["brand"])
        return found

    found = {name: asyncio.run(answers(index)) for name, index in indexes.items()}
    through_actor = found["actor"]
    for name in ("edge", "server"):
        scores = found[name].pop("scores")
        assert scores == pytest.approx(through_actor["scores"], rel=1e-4), name
        assert found[name] == {k: v for k, v in through_actor.items() if k != "scores"}, name
    assert through_actor["describe"] == f"25 products in {CATALOG_COLLECTION}"
    assert [hit_id for hit_id, _ in through_actor["search"]][:1] == [points[3].id]
    jinko = sum(1 for point in points if point.payload["brand"] == "jinko")
    assert through_actor["facets"] == {"brand": [FacetCount("jinko", jinko)]}
    assert sorted(through_actor["all_brands"]["brand"], key=lambda c: str(c.value)) == [
        FacetCount("byd", 25 - jinko),
        FacetCount("jinko", jinko),
    ]
    # The brand's hits first (limit 5), then the unfiltered step's others.
    brands = [brand for _, brand in through_actor["widened"]]
    assert brands[:5] == ["jinko"] * 5 and len(brands) > 5 and set(brands[5:]) != {"jinko"}
