"""The sample packages: `python -m samples.homologacao_cases` writes them, the same bytes every time, and the
complete one is read back from its PDFs and approved (the rule tests check the variants as text). Against
the catalog `make run` loads (the seed-42 sample feeds), the endpoint's check finds their equipment:
the complete package is approved and each other one fails its rule."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from homologacao.case import Case
from homologacao.check import evaluate, read_package
from samples.feeds.merged import merged_sample
from samples.homologacao_cases import VARIANTS, Variant, variant_package
from samples.homologacao_cases.__main__ import main
from services.homologacao import HomologacaoService, ProductCatalog, parse_case
from tests.homologacao.conftest import CONFIG

# What an inverter the catalog does not know leaves unverified (warnings, as every unknown is).
UNKNOWN_INVERTER_UNVERIFIED = (
    "enquadramento_micro_mini",
    "inversor_inmetro",
    "inversor_tensao_fases",
    "relacao_cc_ca",
    "concordancia_inversor",
)


def test_the_generator_writes_every_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(v.name for v in VARIANTS)
    complete = tmp_path / "completo"
    case = Case.model_validate_json((complete / "case.json").read_text(encoding="utf-8"))
    assert case.case_id == "amostra-completo"
    assert len(json.loads((complete / "catalogo.json").read_text(encoding="utf-8"))) == 2
    assert "completo" in capsys.readouterr().out
    written = {p.name: p.read_bytes() for p in complete.glob("*.pdf")}
    assert written == variant_package(VARIANTS[0]).files  # reproducible: fixed PDF dates, no randomness


def test_the_complete_package_read_from_its_pdfs_is_approved() -> None:
    package = variant_package(VARIANTS[0])
    documents, problems = read_package(package.files.items(), CONFIG)
    assert problems == []
    result = evaluate(package.case, documents, problems, package.catalog, CONFIG)
    assert result.status == "approved", [i.message for i in result.items if not i.ok]


@pytest.fixture(scope="module")
def sample_catalog_check(tmp_path_factory: pytest.TempPathFactory) -> HomologacaoService:
    """The endpoint's check over the catalog of `make run`: the full seed-42 sample feeds, parsed and merged
    as the ETL does (the ETL stores these products, the endpoint loads them all)."""
    products = merged_sample(tmp_path_factory.mktemp("sample_feeds"), seed=42).products
    return HomologacaoService(ProductCatalog(list(products.values())))


@pytest.mark.slow  # writes and parses the full sample (11,600 products, ≈3 s), as test_full_default_sample
def test_against_the_sample_catalog_each_package_fails_only_its_rule(
    sample_catalog_check: HomologacaoService, tmp_path: Path
) -> None:
    """What the README's curl gets: the written case.json and PDFs, checked as the endpoint checks them."""
    assert main(["--out", str(tmp_path)]) == 0
    answers = {}
    for variant in VARIANTS:
        folder = tmp_path / variant.name
        case = parse_case((folder / "case.json").read_text(encoding="utf-8"))
        files = [(pdf.name, pdf.read_bytes()) for pdf in sorted(folder.glob("*.pdf"))]
        result = asyncio.run(sample_catalog_check.check(case, files))
        answers[variant.name] = (
            result.status,
            {item.rule: item.severity for item in result.items if not item.ok},
        )
    assert answers == {variant.name: (variant.status, failures(variant)) for variant in VARIANTS}


def failures(variant: Variant) -> dict[str, str]:
    """Rule → severity of what a variant fails: its rule, and what its unknown inverter leaves unverified."""
    if not variant.breaks:
        return {}
    unverified = dict.fromkeys(UNKNOWN_INVERTER_UNVERIFIED if variant.inverter_id else (), "warning")
    return {variant.breaks: "error" if variant.status == "rejected" else "warning", **unverified}
