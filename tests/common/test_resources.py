"""One place makes an environment's adapters: `common.resources.Resources`."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest

from common.resources import Resources
from common.settings import PROJECT_ROOT, Settings
from common.vectors.client import DirectVectorIndex
from common.vectors.edge import EdgeVectorStore
from kernel.errors import DependencyUnavailable
from tests.conftest import free_port

# The constructors of the environment's adapters, and the modules that may call them: their own, Resources.
CONSTRUCTORS = {"postgres_dsn", "object_store", "vector_index", "open_vector_store"}
ALLOWED = {
    "common/resources.py",
    "common/embedded.py",
    "common/storage.py",
    "common/vectors/owner.py",
    "common/vectors/factory.py",
}
PRODUCT = ("common", "models", "services", "ray_jobs", "serve_app", "scripts")


def called_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.id if isinstance(func, ast.Name) else getattr(func, "attr", ""))
    return names


def test_no_module_but_resources_resolves_a_dsn_or_opens_a_store() -> None:
    offenders = {
        path.relative_to(PROJECT_ROOT).as_posix(): sorted(called_names(path) & CONSTRUCTORS)
        for package in PRODUCT
        for path in (PROJECT_ROOT / package).rglob("*.py")
        if path.relative_to(PROJECT_ROOT).as_posix() not in ALLOWED
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_a_vector_store_handed_in_is_the_one_used(tmp_path: Path) -> None:
    store = EdgeVectorStore(tmp_path / "index")
    assert Resources(Settings(base_dir=tmp_path), vectors=store).vectors is store


def test_relative_folders_and_files_resolve_against_the_base_dir(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "atlas.csv").write_bytes(b"UF;CITY\n")
    resources = Resources(Settings(base_dir=tmp_path))
    assert resources.read_object("data/atlas.csv") == b"UF;CITY\n"
    assert resources.objects("data").list_files() == ["atlas.csv"]


def test_the_database_url_is_the_dsn_when_set(tmp_path: Path) -> None:
    url = "postgresql://helio@db.internal:5432/helio"
    assert Resources(Settings(base_dir=tmp_path, database_url=url)).dsn == url


def test_with_a_qdrant_server_replicas_query_it_directly_and_its_absence_is_a_503(tmp_path: Path) -> None:
    """No owner actor on the serving path (no Ray here at all): a server that refuses the connection is
    the index being unavailable, which the API answers with 503."""
    settings = Settings(base_dir=tmp_path, qdrant_url=f"http://127.0.0.1:{free_port()}")
    index = Resources(settings).index_client(timeout_s=5)
    assert isinstance(index, DirectVectorIndex)
    with pytest.raises(DependencyUnavailable, match="count failed"):
        asyncio.run(index.describe())
