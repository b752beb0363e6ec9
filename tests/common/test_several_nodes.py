"""A Ray of several nodes: refused where its nodes would not share one Postgres and one vector index (the
message says which settings to give, and nothing has started); with the database's address given, the
catalog ETL and the embedding job run their tasks and actors on a node other than their driver's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from common import postgres
from common.embedded import embedded_on_cluster
from common.settings import Settings
from samples.feeds import write_sample
from tests.conftest import new_database
from tests.simulated_cluster import run_job, simulated_cluster

SERVER_DSN = "postgresql://ysh:secret@db.internal:5432/ysh"
QDRANT = "http://qdrant.internal:6333"


@pytest.mark.parametrize(
    ("database_url", "qdrant_url", "needed"),
    [
        (None, None, ["DATABASE_URL", "QDRANT_URL"]),
        ("postgresql://postgres@/ysh?host=/tmp/pg", QDRANT, ["DATABASE_URL"]),  # a Unix socket
        ("postgresql://postgres@127.0.0.1:5432/ysh", QDRANT, ["DATABASE_URL"]),
        ("host=localhost dbname=ysh", QDRANT, ["DATABASE_URL"]),
        (SERVER_DSN, None, ["QDRANT_URL"]),
        (SERVER_DSN, "http://localhost:6333", ["QDRANT_URL"]),
        (SERVER_DSN, QDRANT, []),
    ],
)
def test_nodes_on_several_hosts_need_servers_every_node_reaches(
    database_url: str | None, qdrant_url: str | None, needed: list[str]
) -> None:
    settings = Settings(database_url=database_url, qdrant_url=qdrant_url)
    refusal = embedded_on_cluster(settings, nodes=3, hosts=2)
    if not needed:
        assert refusal is None
        return
    assert refusal is not None and refusal.startswith("this Ray cluster has 3 nodes on 2 host(s)")
    for setting in ("DATABASE_URL", "QDRANT_URL"):
        assert (setting in refusal) == (setting in needed)


def test_nodes_on_one_host_share_its_servers_and_the_index_owner_but_not_an_embedded_postgres() -> None:
    """A cluster simulated on one machine: a Postgres on the loopback address or a Unix socket serves every
    node, and so does the Edge index's owner actor; a job left to start a Postgres of its own is refused."""
    socket_dsn = "postgresql://postgres@/ysh?host=/tmp/pg"
    assert embedded_on_cluster(Settings(database_url=socket_dsn), nodes=2, hosts=1) is None
    refusal = embedded_on_cluster(Settings(), nodes=2, hosts=1)
    assert refusal is not None and "DATABASE_URL" in refusal and "QDRANT_URL" not in refusal


def test_one_node_runs_on_the_embedded_defaults() -> None:
    assert embedded_on_cluster(Settings(), nodes=1, hosts=1) is None


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Ray of two nodes on this machine, apart from the session's Ray: a head that offers no CPU
    and a worker, as cluster.yaml plans them. Its GCS address."""
    with simulated_cluster(tmp_path_factory.mktemp("two_nodes"), worker_cpus=(2,)) as cluster:
        yield cluster.address


@pytest.mark.slow
def test_a_job_submitted_to_several_nodes_on_the_defaults_is_refused(two_nodes: str, tmp_path: Path) -> None:
    etl = ["ray_jobs.catalog_etl", "--source", str(tmp_path / "feeds")]
    job = run_job(two_nodes, etl, tmp_path, database_url=None)
    assert job.returncode != 0
    assert "this Ray cluster has 2 nodes on 1 host(s)" in job.stderr
    assert "set DATABASE_URL" in job.stderr
    assert not (tmp_path / "postgres").exists()  # refused before the embedded Postgres started


@pytest.mark.slow
def test_the_catalog_etl_and_the_embedding_job_run_across_two_nodes(
    two_nodes: str, settings: Settings, tmp_path: Path
) -> None:
    """The head offers no CPU, so every parse task and embedding actor runs on the worker node, while the
    vector index's owner (no CPU) is pinned to the head: the ETL writes the catalog to the Postgres its
    DATABASE_URL names, and the embedding job indexes every product of it through the owner."""
    manifest = write_sample(tmp_path / "feeds", products=300)
    dsn = new_database(settings)
    data = tmp_path / "data"
    etl = run_job(two_nodes, ["ray_jobs.catalog_etl", "--source", str(tmp_path / "feeds")], data, dsn)
    assert etl.returncode == 0, etl.stderr[-2000:]
    with postgres.connect(dsn) as conn:
        [row] = conn.execute("SELECT count(*) AS products FROM products").fetchall()
    assert 0 < row["products"] <= manifest.products
    assert not (data / "postgres").exists()  # no Postgres of its own
    embed = run_job(two_nodes, ["ray_jobs.embed_catalog"], data, dsn)
    assert embed.returncode == 0, embed.stderr[-2000:]
    assert f"embedded: {row['products']}," in embed.stderr
