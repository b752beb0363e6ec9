"""One place makes an environment's adapters: `common.resources.Resources`."""

from __future__ import annotations

import ast
from pathlib import Path

from common.resources import Resources
from common.settings import PROJECT_ROOT, Settings
from common.vectors.edge import EdgeVectorStore

# The constructors of the environment's adapters, and the one module besides their own that may call them.
CONSTRUCTORS = {"postgres_dsn", "object_store", "vector_index"}
ALLOWED = {"common/resources.py", "common/embedded.py", "common/storage.py", "common/vectors/owner.py"}
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
