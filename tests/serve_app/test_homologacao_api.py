"""POST /store/helio/homologacao/check in-process (TestClient), over the small generated catalog the other
serve tests use: packages are generated around one of its inverters and modules."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from homologacao.case import Equipment, SystemLine, equipment_from_specs
from homologacao.config import HomologacaoConfig
from kernel.schemas import Offer, Product
from samples.homologacao_cases import (
    Package,
    SampleSystem,
    build_package,
    encrypted_pdf,
    pdf_bytes,
    system_for,
)
from serve_app.api import create_search_api
from serve_app.errors import install_error_handlers
from serve_app.routes.homologacao import routes
from services.homologacao import HomologacaoService, ProductCatalog

PATH = "/store/helio/homologacao/check"
Catalog = tuple[list[Product], list[Offer]]


def _equipment(product: Product) -> Equipment:
    return equipment_from_specs(product.id, product.category, product.brand, product.model, product.specs)


@pytest.fixture(scope="module")
def system(catalog: Catalog) -> SampleSystem:
    """A single-phase 220 V inverter of the test catalog and one of its modules."""
    products = catalog[0]
    inverter = next(
        p for p in products
        if p.category == "inverter" and p.specs.get("phases") == 1 and p.specs.get("ac_voltage_v") == 220
        and 3000 <= p.specs.get("power_w", 0) <= 10000
    )  # fmt: skip
    module = next(p for p in products if p.category == "module" and p.specs.get("power_w"))
    return system_for(_equipment(inverter), _equipment(module))


@pytest.fixture(scope="module")
def package(system: SampleSystem) -> Package:
    return build_package("api", system)


def homologacao_app(service: HomologacaoService) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.homologacao = service
    app.include_router(routes)
    return app


@pytest.fixture(scope="module")
def client(catalog: Catalog) -> TestClient:
    return TestClient(homologacao_app(HomologacaoService(ProductCatalog(catalog[0]))))


def _post(
    client: TestClient, case: Any, files: dict[str, bytes], content_type: str = "application/pdf"
) -> Any:
    body = case if isinstance(case, str) else case.model_dump_json()
    uploads = [("files", (name, data, content_type)) for name, data in files.items()]
    return client.post(PATH, data={"case": body}, files=uploads or None)


def _failing(answer: dict[str, Any]) -> dict[str, str]:
    return {item["rule"]: item["severity"] for item in answer["items"] if not item["ok"]}


def test_a_complete_package_is_approved(client: TestClient, package: Package) -> None:
    response = _post(client, package.case, package.files)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "approved", _failing(answer)
    assert set(answer["items"][0]) >= {"rule", "ok", "severity", "evidence", "fix", "source", "message"}
    [kwp, *_] = answer["extracted"]["kwp"]
    assert (
        kwp["method"] == "pattern"
        and kwp["evidence"]["document"].endswith(".pdf")
        and kwp["evidence"]["page"]
    )


def test_a_package_whose_documents_disagree_is_rejected(client: TestClient, system: SampleSystem) -> None:
    wrong = build_package("api", replace(system, stated_module_count=system.module_count + 3))
    answer = _post(client, wrong.case, wrong.files).json()
    assert answer["status"] == "rejected"
    assert _failing(answer) == {"concordancia_modulos": "error"}
    [item] = [i for i in answer["items"] if i["rule"] == "concordancia_modulos"]
    assert item["fix"] and item["evidence"][0]["snippet"]


def test_an_unknown_inverter_is_a_warning(client: TestClient, package: Package) -> None:
    system = package.case.system.model_copy(
        update={"inverters": [SystemLine(product_id="nao-esta-no-catalogo", quantity=1)]}
    )
    case = package.case.model_copy(update={"system": system})
    answer = _post(client, case, package.files).json()
    assert answer["status"] == "pending"
    assert _failing(answer)["equipamento_no_catalogo"] == "warning"
    assert set(_failing(answer).values()) == {"warning"}


@pytest.mark.parametrize(
    ("name", "data", "content_type", "problem"),
    [
        ("senha.pdf", encrypted_pdf(["Memorial descritivo"]), "application/pdf", "encrypted_pdf"),
        ("quebrado.pdf", b"%PDF-1.7\n%\xe2\xe3 1 0 obj << /Type /Catalog", "application/pdf", "broken_pdf"),
        ("foto.jpg", b"\xff\xd8\xff\xe0 JFIF", "image/jpeg", "unsupported_type"),
    ],
)
def test_bad_files_are_error_items(
    client: TestClient, package: Package, name: str, data: bytes, content_type: str, problem: str
) -> None:
    uploads = [("files", (n, d, "application/pdf")) for n, d in package.files.items()]
    uploads.append(("files", (name, data, content_type)))
    response = client.post(PATH, data={"case": package.case.model_dump_json()}, files=uploads)
    assert response.status_code == 200
    answer = response.json()
    [item] = [i for i in answer["items"] if i["rule"] == "arquivo_legivel"]
    assert (item["ok"], item["severity"]) == (False, "error")
    assert item["evidence"][0] == {"document": name, "page": None, "snippet": problem}
    assert answer["status"] == "rejected"


def test_a_file_over_20_mb_is_an_error_item(client: TestClient, package: Package) -> None:
    big = pdf_bytes(["Memorial descritivo"]) + b"%" * (20 * 1024 * 1024)
    answer = _post(client, package.case, {**package.files, "grande.pdf": big}).json()
    [item] = [i for i in answer["items"] if i["rule"] == "arquivo_legivel"]
    assert "20 MB" in item["message"] and item["evidence"][0]["snippet"] == "too_large"
    assert answer["status"] == "rejected"


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("not json", "case: "),
        (json.dumps({"case_id": "x"}), "consumer_unit"),
        (json.dumps({"case_id": "x", "consumer_unit": {"number": "1"}, "system": {}}), "connection"),
    ],
)
def test_a_bad_case_is_422_with_a_json_message(client: TestClient, case: str, words: str) -> None:
    response = _post(client, case, {})
    assert response.status_code == 422
    assert words in response.json()["detail"]


def test_a_missing_case_field_is_422(client: TestClient) -> None:
    response = client.post(PATH, files=[("files", ("a.txt", b"x", "text/plain"))])
    assert response.status_code == 422 and "case" in response.json()["detail"]


def test_too_many_files_is_422(client: TestClient, package: Package) -> None:
    files = {f"doc{n}.txt": b"texto" for n in range(HomologacaoConfig().max_files + 1)}
    response = _post(client, package.case, files, "text/plain")
    assert response.status_code == 422 and "at most" in response.json()["detail"]


def test_no_catalog_yet_is_503(package: Package) -> None:
    response = _post(TestClient(homologacao_app(HomologacaoService(ProductCatalog()))), package.case, {})
    assert response.status_code == 503 and "catalog" in response.json()["detail"]


def test_the_search_api_mounts_the_endpoint(catalog: Catalog, package: Package) -> None:
    """`create_search_api` (what the Serve router builds) routes the check to the service it is given."""
    service = HomologacaoService(ProductCatalog())
    loaded = service.catalog.remembering(lambda: catalog)()
    assert loaded == catalog
    app = create_search_api(None, None, homologacao=service)  # type: ignore[arg-type]  # search unused here
    response = _post(TestClient(app), package.case, package.files)
    assert response.status_code == 200 and response.json()["status"] == "approved"
