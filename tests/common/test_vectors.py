"""Both vector-store backends against their real engines: Qdrant Edge in a temp folder, and the
in-process `:memory:` twin of the Qdrant server from qdrant-client. The congruence tests run the
same calls on both and expect the same answers."""

from __future__ import annotations

import random
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from qdrant_client import QdrantClient

from common.settings import Settings
from common.vectors.edge import EdgeVectorStore
from common.vectors.factory import open_vector_store
from common.vectors.server import QdrantServerVectorStore
from kernel.vectors import (
    CollectionSpec,
    Hit,
    PayloadFilter,
    SearchRequest,
    SparseVector,
    VectorPoint,
    VectorStore,
)

# The `:memory:` twin warns that payload indexes do nothing in it; the server path creates them anyway.
pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning")

DIM = 16
VOCABULARY = 48  # sparse term ids
COLLECTION = "helio-test"
SPEC = CollectionSpec(
    COLLECTION,
    dense={"minilm": DIM},
    sparse=("lexical",),
    keyword_fields=("brand", "category"),
    float_fields=("price",),
)
BRANDS = ("canadian", "jinko", "growatt", "fronius", "byd")
BACKENDS = ("edge", "server")


def random_vector(rng: random.Random, dim: int = DIM) -> list[float]:
    return [rng.gauss(0.0, 1.0) for _ in range(dim)]


def random_sparse(rng: random.Random) -> SparseVector:
    indices = sorted(rng.sample(range(VOCABULARY), rng.randint(2, 6)))
    return SparseVector(indices, [round(rng.uniform(0.1, 2.0), 3) for _ in indices])


def make_points(count: int, seed: int) -> list[VectorPoint]:
    rng = random.Random(seed)
    return [
        VectorPoint(
            id=str(uuid.UUID(int=rng.getrandbits(128))),
            dense={"minilm": random_vector(rng)},
            sparse={"lexical": random_sparse(rng)},
            payload={
                "brand": rng.choice(BRANDS),
                "category": rng.choice(("panel", "inverter")),
                "price": round(rng.uniform(300.0, 9000.0), 2),
                "in_stock": rng.random() < 0.7,
            },
        )
        for _ in range(count)
    ]


POINTS = make_points(200, seed=11)


def open_backend(kind: str, folder: Path) -> VectorStore:
    if kind == "edge":
        return EdgeVectorStore(folder)
    return QdrantServerVectorStore(QdrantClient(":memory:"))


def loaded_backend(kind: str, folder: Path) -> VectorStore:
    store = open_backend(kind, folder)
    store.ensure_collection(SPEC)
    store.upsert(COLLECTION, POINTS)
    return store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    opened = loaded_backend(request.param, tmp_path / "qdrant")
    yield opened
    opened.close()


@pytest.fixture
def both(tmp_path: Path) -> Iterator[tuple[VectorStore, VectorStore]]:
    edge, server = (loaded_backend(kind, tmp_path / "qdrant") for kind in BACKENDS)
    yield edge, server
    edge.close()
    server.close()


@pytest.fixture(scope="module")
def both_read_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[VectorStore, VectorStore]]:
    """Loaded once for the search table; tests using it must not write."""
    edge, server = (loaded_backend(kind, tmp_path_factory.mktemp("qdrant")) for kind in BACKENDS)
    yield edge, server
    edge.close()
    server.close()


def assert_same_hits(edge_hits: list[Hit], server_hits: list[Hit]) -> None:
    assert [h.id for h in edge_hits] == [h.id for h in server_hits]
    assert [h.score for h in edge_hits] == pytest.approx([h.score for h in server_hits], rel=1e-4)
    assert [h.payload for h in edge_hits] == [h.payload for h in server_hits]


QUERY_RNG = random.Random(5)
DENSE_QUERY = random_vector(QUERY_RNG)
SPARSE_QUERY = random_sparse(QUERY_RNG)
DENSE: dict[str, Any] = {"dense_name": "minilm", "dense": DENSE_QUERY}
SPARSE: dict[str, Any] = {"sparse_name": "lexical", "sparse": SPARSE_QUERY}
# Hybrid limits cover both prefetches together: which of several tied points a limit cuts is arbitrary.
HYBRID: dict[str, Any] = {**DENSE, **SPARSE, "candidates": 8}

SEARCHES = {
    "dense": SearchRequest(limit=10, **DENSE),
    "sparse": SearchRequest(limit=10, **SPARSE),
    "hybrid": SearchRequest(limit=16, **HYBRID),
    "dense-equals": SearchRequest(limit=10, filter=PayloadFilter(equals={"brand": "jinko"}), **DENSE),
    "dense-equals-bool": SearchRequest(limit=10, filter=PayloadFilter(equals={"in_stock": False}), **DENSE),
    "sparse-any-of": SearchRequest(
        limit=10, filter=PayloadFilter(any_of={"brand": ["byd", "growatt"]}), **SPARSE
    ),
    "dense-range-open-low": SearchRequest(
        limit=10, filter=PayloadFilter(ranges={"price": (None, 2000.0)}), **DENSE
    ),
    "hybrid-range": SearchRequest(
        limit=16, filter=PayloadFilter(ranges={"price": (1000.0, 5000.0)}), **HYBRID
    ),
    "hybrid-all-conditions": SearchRequest(
        limit=16,
        filter=PayloadFilter(
            equals={"category": "panel"},
            any_of={"brand": ["canadian", "jinko", "byd"]},
            ranges={"price": (500.0, None)},
        ),
        **HYBRID,
    ),
    "hybrid-rrf-k60": SearchRequest(limit=16, rrf_k=60, **HYBRID),
    "no-payload": SearchRequest(limit=5, with_payload=False, **DENSE),
}


@pytest.mark.parametrize("name", SEARCHES)
def test_backends_rank_alike(both_read_only: tuple[VectorStore, VectorStore], name: str) -> None:
    edge, server = both_read_only
    request = SEARCHES[name]
    edge_hits = edge.search(COLLECTION, request)
    assert edge_hits, "a congruence check on empty results proves nothing"
    assert_same_hits(edge_hits, server.search(COLLECTION, request))


def test_filters_hold_on_every_hit(store: VectorStore) -> None:
    payload_filter = SEARCHES["hybrid-all-conditions"].filter
    for hit in store.search(COLLECTION, SEARCHES["hybrid-all-conditions"]):
        assert hit.payload["category"] == "panel"
        assert hit.payload["brand"] in payload_filter.any_of["brand"]
        assert hit.payload["price"] >= 500.0


def test_dense_search_finds_a_stored_vector_first(store: VectorStore) -> None:
    target = POINTS[42]
    hits = store.search(COLLECTION, SearchRequest(limit=3, dense_name="minilm", dense=target.dense["minilm"]))
    assert hits[0].id == target.id
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].payload == target.payload


def test_writes_read_back_alike(both: tuple[VectorStore, VectorStore]) -> None:
    removed = [p.id for p in POINTS[:20]]
    relabelled = POINTS[30]
    for store in both:
        store.delete(COLLECTION, removed)
        store.set_payload(COLLECTION, relabelled.id, {"brand": "weg", "category": "panel", "price": 1.0})

    edge, server = both
    assert edge.count(COLLECTION) == server.count(COLLECTION) == len(POINTS) - len(removed)
    edge_scan = dict(edge.scan(COLLECTION, ["brand", "price"]))
    assert edge_scan == dict(server.scan(COLLECTION, ["brand", "price"]))
    assert not set(removed) & set(edge_scan)
    assert edge_scan[relabelled.id] == {"brand": "weg", "price": 1.0}  # whole payload replaced
    assert edge.facet(COLLECTION, "brand") == server.facet(COLLECTION, "brand")
    assert "weg" in edge.facet(COLLECTION, "brand")
    # Dense and fused ranks only: after a delete, a live Edge shard still counts the deleted points in
    # its sparse IDF statistics (see test_edge_deletes_survive_a_reload), so raw sparse scores differ.
    only_weg = SearchRequest(limit=5, filter=PayloadFilter(equals={"brand": "weg"}), **DENSE)
    for request in (SEARCHES["dense"], SEARCHES["hybrid"], only_weg):
        assert_same_hits(edge.search(COLLECTION, request), server.search(COLLECTION, request))
    assert [h.id for h in edge.search(COLLECTION, only_weg)] == [relabelled.id]


def test_facet_orders_by_count_then_value(store: VectorStore) -> None:
    counts: dict[str, int] = {}
    for point in POINTS:
        counts[point.payload["brand"]] = counts.get(point.payload["brand"], 0) + 1
    assert store.facet(COLLECTION, "brand") == sorted(counts, key=lambda brand: (-counts[brand], brand))
    assert store.facet(COLLECTION, "brand", limit=2) == store.facet(COLLECTION, "brand")[:2]


def test_scan_pages_through_every_point(store: VectorStore) -> None:
    scanned = dict(store.scan(COLLECTION, ["brand"]))
    assert scanned == {p.id: {"brand": p.payload["brand"]} for p in POINTS}
    assert dict(store.scan(COLLECTION, [])) == {p.id: {} for p in POINTS}


def test_payloads_of_a_few_points_leave_absent_ones_out(store: VectorStore) -> None:
    wanted = [POINTS[0].id, POINTS[5].id, "00000000-0000-0000-0000-000000000000"]
    assert store.payloads(COLLECTION, wanted, ["brand"]) == {
        p.id: {"brand": p.payload["brand"]} for p in (POINTS[0], POINTS[5])
    }
    assert store.payloads(COLLECTION, [], ["brand"]) == {}


def test_a_new_embedding_model_gets_its_own_vector(store: VectorStore) -> None:
    """A second model's vectors go under a new name in the existing collection; spaces never mix."""
    rng = random.Random(3)
    store.ensure_collection(
        CollectionSpec(COLLECTION, dense={**SPEC.dense, "openai": 24}, sparse=SPEC.sparse)
    )
    store.ensure_collection(CollectionSpec(COLLECTION, dense={**SPEC.dense, "openai": 24}))  # idempotent
    reembedded = [
        VectorPoint(p.id, dense={"openai": random_vector(rng, 24)}, payload=p.payload) for p in POINTS[:10]
    ]
    store.upsert(COLLECTION, reembedded)

    hits = store.search(
        COLLECTION, SearchRequest(limit=50, dense_name="openai", dense=reembedded[4].dense["openai"])
    )
    assert hits[0].id == reembedded[4].id
    assert {h.id for h in hits} == {p.id for p in reembedded}  # only points that have the vector
    with pytest.raises(Exception, match="minilm"):
        store.ensure_collection(CollectionSpec(COLLECTION, dense={"minilm": DIM + 1}))


@pytest.mark.parametrize(
    "request_fields",
    [{}, {"dense_name": "minilm"}, {"dense": [0.1] * DIM}, {"sparse": SparseVector([1], [1.0])}],
    ids=["nothing", "name-only", "vector-only", "sparse-vector-only"],
)
def test_search_needs_whole_query_vectors(store: VectorStore, request_fields: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="needs"):
        store.search(COLLECTION, SearchRequest(limit=3, **request_fields))  # type: ignore[arg-type]


def test_edge_reload_gives_identical_results(tmp_path: Path) -> None:
    folder = tmp_path / "qdrant"
    store = loaded_backend("edge", folder)
    store.set_payload(COLLECTION, POINTS[1].id, {"brand": "weg"})
    store.upsert(COLLECTION, make_points(5, seed=12))
    before = {name: store.search(COLLECTION, request) for name, request in SEARCHES.items()}
    store.close()

    reopened = EdgeVectorStore(folder)
    assert {name: reopened.search(COLLECTION, request) for name, request in SEARCHES.items()} == before
    assert dict(reopened.scan(COLLECTION, ["brand"]))[POINTS[1].id] == {"brand": "weg"}
    reopened.close()


def test_edge_deletes_survive_a_reload(tmp_path: Path) -> None:
    """Compared by ids, not sparse scores: a live shard keeps deleted points in its IDF statistics
    until it is reloaded (qdrant-edge-py 0.9.0), so sparse scores shift slightly across a reload."""
    folder = tmp_path / "qdrant"
    store = loaded_backend("edge", folder)
    deleted = POINTS[42]
    store.delete(COLLECTION, [deleted.id])
    store.close()

    reopened = EdgeVectorStore(folder)
    assert reopened.count(COLLECTION) == len(POINTS) - 1
    assert deleted.id not in dict(reopened.scan(COLLECTION, []))
    hits = reopened.search(
        COLLECTION, SearchRequest(limit=3, dense_name="minilm", dense=deleted.dense["minilm"])
    )
    assert deleted.id not in {h.id for h in hits}
    reopened.close()


def test_edge_shard_refuses_a_second_process(tmp_path: Path) -> None:
    folder = tmp_path / "qdrant"
    store = loaded_backend("edge", folder)
    second_owner = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, pathlib; from common.vectors.edge import EdgeVectorStore; "
            "EdgeVectorStore(pathlib.Path(sys.argv[1]))",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second_owner.returncode != 0
    assert "WAL" in second_owner.stderr
    assert store.count(COLLECTION) == len(POINTS)  # the owner is unaffected
    store.close()


UNKNOWN = "no-such"
READS_OF_UNKNOWN: dict[str, Callable[[VectorStore], object]] = {
    "count": lambda store: store.count(UNKNOWN),
    "search": lambda store: store.search(
        UNKNOWN, SearchRequest(limit=3, dense_name="minilm", dense=[1.0] * DIM)
    ),
    "scan": lambda store: list(store.scan(UNKNOWN, ["brand"])),
    "facet": lambda store: store.facet(UNKNOWN, "brand"),
    "payloads": lambda store: store.payloads(UNKNOWN, [POINTS[0].id], ["brand"]),
    "vectors": lambda store: store.vectors(UNKNOWN, [POINTS[0].id], ["minilm"]),
}


@pytest.mark.parametrize("read", sorted(READS_OF_UNKNOWN))
def test_an_unknown_collection_is_a_lookup_error_on_both_backends(store: VectorStore, read: str) -> None:
    """What the serving port turns into "run its job" (a 503), whichever engine holds the index."""
    with pytest.raises(LookupError, match=UNKNOWN):
        READS_OF_UNKNOWN[read](store)


def test_factory_defaults_to_edge_under_data_dir(tmp_path: Path) -> None:
    """The QDRANT_URL branch is left to a real server: its client probes the server's version at once."""
    store = open_vector_store(Settings(data_dir=tmp_path, qdrant_url=None))
    assert isinstance(store, EdgeVectorStore)
    store.close()
    assert (tmp_path / "qdrant").is_dir()
