"""python -m samples.homologacao_cases --out DIR: every sample package in DIR/<name>/ (case.json + documents),
and DIR/<name>/catalogo.json, what the catalog says about its products (to try the rules by hand)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from samples.homologacao_cases import VARIANTS, Package, variant_package


def write_package(package: Package, out: Path) -> Path:
    folder = out / package.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "case.json").write_text(package.case_json() + "\n", encoding="utf-8")
    for file_name, data in package.files.items():
        (folder / file_name).write_bytes(data)
    catalog = {key: value.model_dump(exclude_none=True) for key, value in package.catalog.items()}
    (folder / "catalogo.json").write_text(json.dumps(catalog, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples.homologacao_cases", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the packages in")
    args = parser.parse_args(argv)
    for variant in VARIANTS:
        folder = write_package(variant_package(variant), args.out)
        expected = f"breaks {variant.breaks}" if variant.breaks else "passes every rule"
        print(f"{folder}: {variant.status} ({expected})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
