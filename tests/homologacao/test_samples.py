"""The sample packages: `python -m homologacao.samples` writes them, the same bytes every time, and the
complete one is read back from its PDFs and approved (the rule tests check the variants as text)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homologacao.case import Case
from homologacao.check import evaluate, read_package
from homologacao.samples import VARIANTS, variant_package
from homologacao.samples.__main__ import main
from tests.homologacao.conftest import CONFIG


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
