"""Property-based requests against the app's own OpenAPI schema (schemathesis): valid and invalid
parameters and bodies on every operation the app documents. No answer may be a 5xx, and every error is
JSON `{"detail": "<message>"}`.

The app is the router's real one built in-process (`tests.serve_app.local_app`): the real search,
recommender and assistant over MiniLM and Qdrant Edge, the admin API over a real Postgres, the homologação
check without a chat engine. No Ray, so the admin's job trigger is a stand-in (the scheduler is a Ray
actor). Admin requests carry the right token, so the fuzzing reaches past authentication. The per-client
rate is lifted here (every generated request comes from one test client); `test_limits.py` covers it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from pydantic import SecretStr
from schemathesis import GenerationMode

from common.run_history import TriggerOutcome
from common.settings import Settings
from kernel.schemas import Offer, Product
from models.embedders import SentenceTransformerEmbedder
from serve_app.api import create_search_api
from serve_app.limits import LimitsOptions
from serve_app.routes.admin import AdminService
from services.homologacao import HomologacaoService, ProductCatalog
from services.recommend import KitRecommender
from tests.conftest import new_database
from tests.serve_app.local_app import indexed_store, local_api

TOKEN = "hostile-admin-token-0123456789abcdef"
UNLIMITED = LimitsOptions(rate_per_s=1e9, burst=1_000_000_000)
EXAMPLES = hypothesis_settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


async def trigger(job: str) -> TriggerOutcome:
    if job == "catalog_etl":
        return TriggerOutcome(status="submitted", message="submitted", run_id=1)
    return TriggerOutcome(status="unknown_job", message=f"no job {job!r}")


@pytest.fixture(scope="module")
def api_schema(
    tmp_path_factory: pytest.TempPathFactory,
    settings: Settings,
    minilm: SentenceTransformerEmbedder,
    recommender: KitRecommender,
    catalog: tuple[list[Product], list[Offer]],
) -> Iterator[Any]:
    store = indexed_store(tmp_path_factory.mktemp("hostile-index"), minilm)
    dsn = new_database(settings)
    admin = AdminService(token=SecretStr(TOKEN), dsn=lambda: dsn, trigger=trigger)
    homologacao = HomologacaoService(ProductCatalog(catalog[0]))
    app = local_api(store, minilm, recommender, UNLIMITED, admin, homologacao)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    yield schema
    store.close()


def check(case: schemathesis.Case) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"} if case.path.startswith("/admin/") else None
    response = case.call(headers=auth)
    assert response.status_code < 500, (case.as_curl_command(), response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/json"), response.text
        body = response.json()
        assert set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"], body


@pytest.mark.slow
def test_no_server_errors_and_every_error_is_json(api_schema: Any) -> None:
    """Every operation of the schema, so routers added later (uploads, admin) are fuzzed too."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "GET /store/helio/search",
        "POST /store/helio/recommend",
        "POST /store/helio/quote",
        "GET /store/helio/products/{product_id}/compatible",
        "POST /store/helio/ask",
        "GET /health",
    }
    for operation, mode in itertools.product(operations, GenerationMode):

        @EXAMPLES
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case: schemathesis.Case) -> None:
            check(case)

        try:
            fuzz()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing to break in an operation without inputs


# Bounded in code rather than in the schema: the homologação upload's JSON `case` field and its files
# (a file count and 20 MB per file there, 60 MB per request in serve_app.limits).
BOUNDED_IN_CODE = {"POST /store/helio/homologacao/check"}


def unbounded(name: str, schema: dict[str, Any], components: dict[str, Any], seen: set[str]) -> list[str]:
    """Free-text strings without maxLength, arrays without maxItems, integers without a maximum."""
    if "$ref" in schema:
        ref = schema["$ref"].rsplit("/", 1)[-1]
        return [] if ref in seen else unbounded(name, components[ref], components, seen | {ref})
    found = []
    for alternative in schema.get("anyOf", [schema]):
        kind = alternative.get("type")
        bounded = {"string": ("maxLength", "enum", "const", "format"), "array": ("maxItems",),
                   "integer": ("maximum", "enum")}.get(kind, ())  # fmt: skip
        if bounded and not any(key in alternative for key in bounded):
            found.append(f"{name}: {kind}")
        for field, sub in alternative.get("properties", {}).items():
            found += unbounded(f"{name}.{field}", sub, components, seen)
        if "items" in alternative:
            found += unbounded(f"{name}[]", alternative["items"], components, seen)
    return found


def test_every_request_input_has_a_bound() -> None:
    """Question length, `limit`s, ids, lists: the schema caps each; the body cap covers the rest."""
    document = create_search_api(None, None).openapi()  # type: ignore[arg-type]  # the document needs no services
    components = document["components"]["schemas"]
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if f"{method.upper()} {path}" in BOUNDED_IN_CODE:
                continue
            for parameter in operation.get("parameters", []):
                found += unbounded(f"{path} {parameter['name']}", parameter["schema"], components, set())
            for content in operation.get("requestBody", {}).get("content", {}).values():
                found += unbounded(f"{method} {path} body", content["schema"], components, set())
    assert found == []
