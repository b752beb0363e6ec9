"""The ERP simulator serves exactly the API deploy/erp-openapi.yaml documents (which the client follows):
the same paths and methods, query parameters and required headers."""

from __future__ import annotations

from typing import Any

import yaml

from common.settings import PROJECT_ROOT
from tests.erp_simulator import ErpSimulator, create_app

CONTRACT = PROJECT_ROOT / "deploy" / "erp-openapi.yaml"


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], set[tuple[str, str, bool]]]:
    """(path, method) → its parameters as (in, name lower-cased, required)."""
    return {
        (path, method): {
            (p["in"], p["name"].lower(), bool(p.get("required"))) for p in op.get("parameters", [])
        }
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }


def test_the_simulator_serves_the_documented_operations() -> None:
    documented = operations(yaml.safe_load(CONTRACT.read_text(encoding="utf-8")))
    served = operations(create_app(ErpSimulator(token="t")).openapi())
    assert documented.keys() == served.keys()
    for operation, parameters in documented.items():
        # the simulator also declares the Authorization header, which the contract states as security
        assert parameters == served[operation] - {("header", "authorization", False)}, operation
